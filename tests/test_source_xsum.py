"""The XSum loader on a tiny JSONL written here (texts written for the test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.sources.xsum import load_xsum


@pytest.fixture
def xsum_file(tmp_path: Path) -> Path:
    rows = [
        {"id": "101", "document": "The council voted to close the bridge.\nRepairs start in May.",
         "summary": "A bridge will close for repairs."},
        {"id": "102", "document": "", "summary": "An empty document."},
        {"id": "103", "document": "Rain  delayed the final\u00a0match.",
         "summary": "Rain delayed the final."},
    ]
    path = tmp_path / "test.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    return path


def test_documents_and_summaries_in_file_order(xsum_file):
    examples = load_xsum(xsum_file)
    assert [e.id for e in examples] == ["xsum:101", "xsum:103"]  # the empty document is skipped
    first = examples[0]
    assert first.source == "xsum" and first.title == "" and first.themes == {} and first.countries is None
    assert first.body == "The council voted to close the bridge.\nRepairs start in May."
    assert first.article == first.body and first.summary == "A bridge will close for repairs."
    assert examples[1].body == "Rain delayed the final match."  # whitespace cleaned


def test_include_empty_keeps_the_empty_document(xsum_file):
    examples = load_xsum(xsum_file, include_empty=True)
    assert [e.id for e in examples] == ["xsum:101", "xsum:102", "xsum:103"]
    assert examples[1].body == "" and examples[1].summary == "An empty document."


def test_malformed_row_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "document": "x", "summary": "y"}\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_xsum(path)
