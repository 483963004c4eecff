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


def test_http_takes_thresholds_and_rejects_ones_outside_0_1(fake_analyzer, seen_thresholds):
    import httpx

    with LiveServer(create_app(fake_analyzer)) as live, httpx.Client(base_url=live.url, timeout=30) as client:
        assert wait_ready(client).status_code == 200
        body = {"text": "France and Kenya sign a deal.", "thresholds": {"themes": 0.4}, "top_k": 1}
        for path in ("/v1/classify", "/v1/analyze"):
            response = client.post(path, json=body)
            assert response.status_code == 200 and len(response.json()["countries"]) == 1
        assert seen_thresholds == [{"themes": 0.4}, {"themes": 0.4}]
        assert client.post("/v1/classify", json={**body, "thresholds": {"themes": 2}}).status_code == 422


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
