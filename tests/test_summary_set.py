"""The team-written summary set and faithfulness data: files, checks, import, the checker's pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp_service.summarize.verify import Article, VerifierSettings
from tests.example_texts import FERRY_ARTICLE
from training.faith_team import LabelledSummary, sentence_pairs
from training.gold.abstracts import MAX_WORDS, AbstractError, load_abstracts, read_abstracts
from training.gold.faith_data import FaithDataError, read_judged, read_written
from training.gold.summary_import import import_work


def _write(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


ROW = {"key": "bbc:business/001", "abstract": "A bank raised its rates.", "writer": "w1", "note": ""}


def test_abstracts_read_and_skip(tmp_path):
    path = _write(tmp_path / "pass1.jsonl", [ROW, {**ROW, "key": "bbc:tech/002", "abstract": "SKIP",
                                                     "note": "not news"}])
    rows = read_abstracts(path)
    assert [r.skipped for r in rows] == [False, True]
    assert load_abstracts(tmp_path).usable().keys() == {"bbc:business/001"}


@pytest.mark.parametrize("bad, field", [
    ("{not json", "(row)"),
    ({**ROW, "key": "reuters:1"}, "key"),
    ({**ROW, "abstract": " "}, "abstract"),
    ({**ROW, "abstract": "word " * (MAX_WORDS + 1)}, "abstract"),
    ({k: v for k, v in ROW.items() if k != "writer"}, "writer"),
    ({**ROW, "colour": "red"}, "colour"),
])
def test_a_bad_abstract_line_names_file_line_and_field(tmp_path, bad, field):
    path = _write(tmp_path / "pass1.jsonl", [ROW | {"key": "bbc:tech/009"}, bad])
    with pytest.raises(AbstractError) as err:
        read_abstracts(path)
    assert f"pass1.jsonl:2: field {field!r}" in str(err.value)


def test_duplicate_key_and_unblind_second_writing_are_refused(tmp_path):
    with pytest.raises(AbstractError, match="duplicate key"):
        read_abstracts(_write(tmp_path / "a" / "pass1.jsonl", [ROW, ROW]))
    _write(tmp_path / "b" / "pass1.jsonl", [ROW])
    _write(tmp_path / "b" / "pass2.jsonl", [ROW])
    with pytest.raises(AbstractError, match="not blind"):
        load_abstracts(tmp_path / "b")


def test_written_and_judged_rows_are_checked(tmp_path):
    good = {"key": "bbc:sport/042", "summary": "Lakeside beat Northfield 3-1.", "faithful": False,
            "type": "role_swap", "span": "Lakeside beat Northfield", "writer": "w2", "kind": "negative"}
    assert read_written(_write(tmp_path / "w.jsonl", [good]))[0]["type"] == "role_swap"
    with pytest.raises(FaithDataError, match="w2.jsonl:1: field 'span'"):
        read_written(_write(tmp_path / "w2.jsonl", [{**good, "span": "Southfield"}]))
    with pytest.raises(FaithDataError, match="field 'faithful'"):
        read_written(_write(tmp_path / "w3.jsonl", [{**good, "kind": "paraphrase"}]))
    from training.gold.faith_data import text_sha1

    judged = {"key": "bbc:sport/042", "summary": "Northfield won.", "summary_sha1": text_sha1("Northfield won."),
              "faithful": True, "type": None, "span": None, "fluent": True, "covers": "yes", "judge": "j1", "note": ""}
    with pytest.raises(FaithDataError, match="field 'covers'"):
        read_judged(_write(tmp_path / "j.jsonl", [judged]))
    copied = {**judged, "covers": True, "summary": None}  # a copy of the article: stored by its hash alone
    assert read_judged(_write(tmp_path / "j2.jsonl", [copied]))[0]["summary"] is None
    with pytest.raises(FaithDataError, match="summary_sha1"):
        read_judged(_write(tmp_path / "j3.jsonl", [{**judged, "covers": True, "summary_sha1": "0" * 40}]))


def test_import_keeps_first_and_second_writers_apart(tmp_path):
    work = tmp_path / "work"
    first = {**ROW, "paraphrase": "Borrowing got dearer at the bank.", "negative": "A bank cut its rates.",
             "negative_type": "predicate", "negative_span": "cut"}
    _write(work / "out" / "te000.jsonl", [first])
    _write(work / "out" / "d000.jsonl", [{**first, "writer": "w2", "abstract": "The bank put rates up."},
                                         {**first, "key": "bbc:tech/077", "writer": "w3"}])  # no first writer
    _write(work / "judge" / "out" / "jb000.jsonl", [
        {"key": ROW["key"], "summary": "A bank cut its rates.", "faithful": False, "type": "predicate",
         "span": "cut", "fluent": True, "covers": True, "judge": "j1", "note": ""}])
    counts = import_work(work, tmp_path / "summaries", tmp_path / "faith")
    # the orphan second writing gives no abstract row, but its paraphrase and negative are still pairs
    assert counts == {"pass1": 1, "pass2": 1, "written": 6, "judged": 1}
    s = load_abstracts(tmp_path / "summaries")
    assert s.doubles()[ROW["key"]][1].abstract == "The bank put rates up."
    assert import_work(work, tmp_path / "summaries", tmp_path / "faith") == counts  # idempotent


def test_checker_pairs_label_the_sentence_that_holds_the_error():
    doc = Article.build(FERRY_ARTICLE)
    bad = LabelledSummary("bbc:x/1", "Eastmere opened a ferry terminal. It cost £40m to build.", False,
                          "negative", "number", "£40m")
    pairs = sentence_pairs(bad, doc, VerifierSettings())
    assert [p.label for p in pairs] == [1, 0]
    assert pairs[1].kind == "number" and pairs[1].premise  # the closest article sentences
    assert sentence_pairs(LabelledSummary("bbc:x/1", "Eastmere opened it.", False, "negative", "number", "£9"),
                          doc, VerifierSettings()) == []  # a span not in the summary gives no pair
