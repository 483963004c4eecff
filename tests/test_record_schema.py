"""The output record's JSON Schema (nlp_service/data/record.schema.json) matches what the service writes."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import pytest

from nlp_service.analyzer import AnalyzeOptions
from nlp_service.batch import BatchConfig, run_batch
from nlp_service.records import Analysis
from nlp_service.taxonomy import load_taxonomy


def load_schema() -> dict:
    return json.loads(resources.files("nlp_service.data").joinpath("record.schema.json").read_text("utf-8"))


def validator():
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed in this environment (pip install jsonschema to run)"
    )
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def fake_records(tmp_path: Path, analyzer, tasks=("classify", "summarize")) -> list[dict]:
    rows = [
        {"id": "ok", "text": "Kenya and France held an election."},
        {"id": "short", "title": "Japan", "body": "The match was won."},
        {"id": "nothing"},
        {"id": "blank", "text": " "},
    ]
    src = tmp_path / f"in-{'-'.join(tasks)}.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    out = tmp_path / f"out-{'-'.join(tasks)}.jsonl"
    run_batch(analyzer, str(src), str(out), BatchConfig(progress=False, options=AnalyzeOptions(tasks=tasks)))
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_schema_describes_exactly_the_record_fields():
    # Runs without jsonschema: a field added to Analysis must be added to the schema too.
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(Analysis)}
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(Analysis(id="x").to_dict())


def test_taxonomy_labels_fit_the_schema_patterns():
    import re

    props = load_schema()["properties"]
    theme_code = re.compile(props["themes"]["items"]["properties"]["code"]["pattern"])
    m49 = re.compile(props["regions"]["items"]["properties"]["m49"]["pattern"])
    country = re.compile(props["countries"]["items"]["properties"]["code"]["pattern"])
    tax = load_taxonomy()
    assert all(theme_code.match(t.code) for t in tax.themes)
    assert all(m49.match(r.m49) for r in tax.regions)
    assert all(country.match(c.code) for c in tax.countries)


@pytest.mark.parametrize("tasks", [("classify", "summarize"), ("classify",), ("summarize",)])
def test_batch_records_validate(tmp_path, fake_analyzer, tasks):
    check = validator()
    records = fake_records(tmp_path, fake_analyzer, tasks)
    assert len(records) == 5 and sum("error" in r for r in records) == 3
    for record in records:
        check.validate(record)


def test_schema_rejects_malformed_records(tmp_path, fake_analyzer):
    check = validator()
    good = fake_records(tmp_path, fake_analyzer)[0]
    broken = [
        {**good, "error": "x"},  # an error record carries no labels
        {k: v for k, v in good.items() if k != "regions"},  # classification fields come together
        {**good, "summary_method": "poem"},
        {**good, "themes": [{"name": "politics", "code": "11000000", "score": 0.5}]},
        {**good, "countries": [{"code": "KE", "name": "Kenya", "score": 1.5}]},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "id"},
        {"id": "x", "warnings": [], "model": {}},  # neither a result nor an error
    ]
    for record in broken:
        assert not check.is_valid(record), record


@pytest.mark.slow
def test_real_records_validate(real_analyzer, examples_path):
    check = validator()
    rows = [json.loads(line) for line in examples_path.read_text(encoding="utf-8").splitlines()]
    texts = [r.get("text") or f"{r['title']}\n{r['body']}" for r in rows]
    records = real_analyzer.analyze(texts, ids=[r["id"] for r in rows])
    for record in records:
        check.validate(record.to_dict())
    tax = load_taxonomy()
    for record in records:
        assert all(tax.theme(t.name).code == t.code for t in record.themes or [])
        assert all(tax.region(r.name).m49 == r.m49 for r in record.regions or [])


def test_explained_records_validate(real_analyzer, examples_path):
    check = validator()
    rows = [json.loads(line) for line in examples_path.read_text(encoding="utf-8").splitlines()][:4]
    texts = [r.get("text") or f"{r['title']}\n{r['body']}" for r in rows]
    records = real_analyzer.analyze(texts, ids=[r["id"] for r in rows], tasks=("classify",), explain=True)
    for record in records:
        check.validate(record.to_dict())
        assert all(t.evidence is not None for t in record.themes)
