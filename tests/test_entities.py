"""The entities task: people, organisations and places with character spans, from the Python API, batch and
HTTP (spaCy's NER, which already runs for countries; articles written for these tests)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from nlp_service import cli
from nlp_service.places import ner_available
from nlp_service.serve.app import create_app

pytestmark = pytest.mark.skipif(not ner_available(), reason="spaCy's model is not installed (make setup)")

ARTICLE = ("Angela Ruiz, chief executive of Harbour Telecom, told reporters in Lisbon on Monday that the company "
           "would open an office in Nairobi next year. Tom Becker of the European Commission welcomed the plan.")


def _by_type(entities) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in entities:
        out.setdefault(e["type"], set()).add(e["text"])
    return out


def test_people_organisations_and_places_come_with_spans_that_slice_the_text(fake_analyzer):
    record = fake_analyzer.analyze(ARTICLE, tasks=("entities",)).to_dict()
    assert set(record) >= {"entities"} and "themes" not in record and "summary" not in record
    for e in record["entities"]:
        assert ARTICLE[e["start"]:e["end"]] == e["text"]
    found = _by_type(record["entities"])
    assert {"Angela Ruiz", "Tom Becker"} <= found["person"]
    assert "Harbour Telecom" in found["organisation"] and {"Lisbon", "Nairobi"} <= found["place"]


def test_entities_records_follow_the_record_schema(fake_analyzer):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("nlp_service.data").joinpath("record.schema.json").read_text("utf-8"))
    record = fake_analyzer.analyze(ARTICLE, tasks=("classify", "entities")).to_dict()
    jsonschema.validate(record, schema)


def test_batch_and_http_run_the_entities_task(tmp_path, monkeypatch, fake_analyzer):
    import httpx
    from test_server import LiveServer, wait_ready

    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": ARTICLE}) + "\n")
    out = tmp_path / "out.jsonl"
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--tasks", "entities", "--no-progress"]) == 0
    assert "Angela Ruiz" in _by_type(json.loads(out.read_text())["entities"])["person"]
    with LiveServer(create_app(fake_analyzer)) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        assert wait_ready(client).status_code == 200
        response = client.post("/v1/analyze", json={"text": ARTICLE, "tasks": ["entities"]})
        assert response.status_code == 200
        assert "Harbour Telecom" in _by_type(response.json()["entities"])["organisation"]
