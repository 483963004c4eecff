"""The same options everywhere: thresholds and top_k on the CLI and over HTTP, the input's own column names in
batch (--text-field …), and CSV or Parquet output chosen by the output's suffix."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_server import LiveServer, wait_ready

from nlp_service import cli
from nlp_service.serve.app import create_app


@pytest.fixture
def use_fakes(monkeypatch, fake_analyzer):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    return fake_analyzer


@pytest.fixture
def seen_thresholds(fake_classifier, monkeypatch) -> list:
    """The thresholds each classify call received."""
    seen, real = [], fake_classifier.classify

    def spy(texts, thresholds=None, top_k=None, explain=False):
        seen.append(thresholds)
        return real(texts, thresholds, top_k, explain)

    monkeypatch.setattr(fake_classifier, "classify", spy)
    return seen


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_batch_takes_thresholds_and_top_k(tmp_path, use_fakes, seen_thresholds):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "France and Kenya sign a deal."}) + "\n")
    out = tmp_path / "out.jsonl"
    code = cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress", "--top-k", "1",
                     "--threshold", "themes=0.4", "--threshold", "politics=0.7"])
    assert code == 0 and seen_thresholds == [{"themes": 0.4, "politics": 0.7}]
    assert len(json.loads(out.read_text())["countries"]) == 1


@pytest.mark.parametrize("bad", ["themes", "themes=high", "politics=1.5", "=0.3"])
def test_a_threshold_that_is_not_name_equals_probability_exits_2(tmp_path, use_fakes, capsys, bad):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "x"}) + "\n")
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--threshold", bad]) == 2
    assert "expected NAME=P with P between 0 and 1" in capsys.readouterr().err


def test_http_takes_thresholds_and_rejects_unknown_names_and_ones_outside_0_1(fake_analyzer, seen_thresholds):
    import httpx

    with LiveServer(create_app(fake_analyzer)) as live, httpx.Client(base_url=live.url, timeout=30) as client:
        assert wait_ready(client).status_code == 200
        body = {"text": "France and Kenya sign a deal.", "thresholds": {"themes": 0.4}, "top_k": 1}
        for path in ("/v1/classify", "/v1/analyze"):
            response = client.post(path, json=body)
            assert response.status_code == 200 and len(response.json()["countries"]) == 1
        assert seen_thresholds == [{"themes": 0.4}, {"themes": 0.4}]
        assert client.post("/v1/classify", json={**body, "thresholds": {"themes": 2}}).status_code == 422
        for path in ("/v1/classify", "/v1/analyze"):
            response = client.post(path, json={**body, "thresholds": {"politcs": 0.3}})
            assert response.status_code == 422
            assert response.json()["detail"].startswith("unknown threshold name 'politcs' (did you mean 'politics'?)")
        assert len(seen_thresholds) == 2  # refused before any model ran


def test_a_misspelt_threshold_name_stops_a_batch_before_its_first_row(tmp_path, use_fakes, fake_classifier, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "France and Kenya sign a deal."}) + "\n")
    for output in ("o.jsonl", "o.csv"):
        out = tmp_path / output
        code = cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress", "--threshold", "politcs=0.3"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.splitlines()) == 1, err
        assert err.startswith("nlp-service: error: unknown threshold name 'politcs' (did you mean 'politics'?)")
        assert "'Eastern Asia'" in err and "themes, regions, countries" in err  # the valid names
        assert not out.exists() and not Path(f"{out}.partial.jsonl").exists()
    assert fake_classifier.calls == []
    # A region name is a label name too, spelt as the records spell it.
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "ok.jsonl"), "--no-progress",
                     "--threshold", "Eastern Asia=0.3"]) == 0


def test_the_python_api_refuses_unknown_threshold_names_and_values_outside_0_1(fake_analyzer):
    text = "France and Kenya sign a deal."
    with pytest.raises(ValueError, match=r"unknown threshold name 'politcs' \(did you mean 'politics'\?\)"):
        fake_analyzer.classify(text, thresholds={"politcs": 0.3})
    with pytest.raises(ValueError, match="unknown threshold name 'eastern asia' .*did you mean 'Eastern Asia'"):
        fake_analyzer.analyze([text], thresholds={"eastern asia": 0.3})
    with pytest.raises(ValueError, match="unknown threshold name 'xyzzy'; a threshold is set for a whole list"):
        fake_analyzer.analyze(text, thresholds={"xyzzy": 0.3})
    for bad in (1.5, -0.1, float("nan"), "0.3", True):
        with pytest.raises(ValueError, match="threshold 'themes' must be a probability from 0 to 1"):
            fake_analyzer.classify(text, thresholds={"themes": bad})
    assert fake_analyzer.classify(text, thresholds={"politics": 0.3, "countries": 0.5}).countries


def test_threshold_names_are_the_checkpoints_own_labels(tmp_path, checkpoints):
    """An own-label checkpoint's themes replace the IPTC themes, read from its config before any model loads."""
    import numpy as np
    from safetensors.numpy import save_file

    from nlp_service.analyzer import Analyzer

    desks = ["courts", "football", "markets"]
    folder = tmp_path / "desks"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"taxonomy": "own", "themes": desks, "thresholds": dict.fromkeys(desks, 0.5), "version": "desks-1"}
    ))
    save_file({"weight": np.zeros((3, 8), np.float32), "bias": np.zeros(3, np.float32)},
              str(folder / "theme_heads.safetensors"))
    analyzer = Analyzer.load(folder)
    assert analyzer.labels["themes"] == tuple(desks) and "Eastern Asia" in analyzer.labels["regions"]
    analyzer.check_thresholds({"markets": 0.7, "Eastern Asia": 0.2, "themes": 0.4})
    with pytest.raises(ValueError, match="'markts' \\(did you mean 'markets'\\?\\).*themes: 'courts', 'football'"):
        analyzer.check_thresholds({"markts": 0.7})
    with pytest.raises(ValueError, match="unknown threshold name 'politics'"):
        analyzer.check_thresholds({"politics": 0.7})  # an IPTC theme this checkpoint does not report
    # The shipped checkpoint's labels are those of its classifier's config.
    config = json.loads((checkpoints / "classifier" / "config.json").read_text())
    assert Analyzer.load(checkpoints).labels == {"themes": tuple(config["themes"]), "regions": tuple(config["regions"])}


def test_batch_maps_the_files_own_column_names(tmp_path, use_fakes):
    row = {"story_id": "s1", "headline": "Deal signed", "article": "France and Kenya sign."}
    src = _csv(tmp_path / "in.csv", [row])
    out = tmp_path / "out.jsonl"
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress", "--id-field", "story_id",
                     "--title-field", "headline", "--body-field", "article"]) == 0
    record = json.loads(out.read_text())
    assert record["id"] == "s1" and [c["code"] for c in record["countries"]] == ["FR", "KE"]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"key": "j1", "story": "Kenya and France."}) + "\n")
    assert cli.main(["batch", "-i", str(jsonl), "-o", str(tmp_path / "o2.jsonl"), "--no-progress",
                     "--id-field", "key", "--text-field", "story"]) == 0
    assert json.loads((tmp_path / "o2.jsonl").read_text())["id"] == "j1"


def test_an_unmapped_header_names_the_mapping_options(tmp_path, use_fakes, capsys):
    src = _csv(tmp_path / "in.csv", [{"headline": "Deal", "article": "France and Kenya sign."}])
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]) == 2
    assert "name yours with --text-field" in capsys.readouterr().err


def test_csv_and_parquet_outputs_are_chosen_by_suffix(tmp_path, use_fakes):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in
                           [("a", "France and Kenya sign a deal."), ("b", "  ")]))
    out_csv = tmp_path / "out.csv"
    assert cli.main(["batch", "-i", str(src), "-o", str(out_csv), "--no-progress"]) == 1  # row b is an error
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["a", "b"] and rows[0]["countries"] == "FR;KE"
    assert len(rows[0]["countries_scores"].split(";")) == 2 and rows[1]["error"]
    assert not Path(str(out_csv) + ".partial.jsonl").exists()
    pq = pytest.importorskip("pyarrow.parquet")
    out_pq = tmp_path / "out.parquet"
    assert cli.main(["batch", "-i", str(src), "-o", str(out_pq), "--no-progress"]) == 1
    table = pq.read_table(out_pq).to_pylist()
    assert [r["id"] for r in table] == ["a", "b"] and table[0]["countries"][0]["code"] == "FR"


def test_classifier_options_without_the_classify_task_are_refused_not_ignored(fake_analyzer):
    text = "France and Kenya sign a deal."
    for option in ({"thresholds": {"politics": 0.3}}, {"top_k": 2}, {"explain": True}):
        name = next(iter(option))
        with pytest.raises(ValueError, match=f"{name} applies only to the classify task.*add classify or leave"):
            fake_analyzer.analyze(text, tasks=["summarize"], **option)
    assert fake_analyzer.analyze(text, tasks=["summarize"]).summary


def test_the_http_api_refuses_classifier_options_without_classify(fake_analyzer):
    from fastapi.testclient import TestClient

    from nlp_service.serve import create_app

    with TestClient(create_app(fake_analyzer)) as client:
        response = client.post("/v1/analyze", json={"text": "France and Kenya sign a deal.", "tasks": ["summarize"],
                                                    "top_k": 2})
    assert response.status_code == 422
    assert "top_k applies only to the classify task" in response.json()["detail"]
