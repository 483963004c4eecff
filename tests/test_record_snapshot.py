"""What users get does not change when code moves: the shipped checkpoints' records for the examples and 200
test-split articles match the fixture written before (tests/record_snapshot.py says how and when to rewrite it)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests import record_snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fixture_and_records():
    probe, expected = record_snapshot.read()
    own = {r["id"] for r in record_snapshot.example_articles()}
    ids = list(dict.fromkeys(e["id"] for e in expected if e["run"] == "default" and e["id"] not in own))
    return probe, expected, record_snapshot.snapshot(ids)


def test_every_record_is_there(fixture_and_records):
    _, expected, actual = fixture_and_records
    assert [(e["run"], e["id"]) for e in actual] == [(e["run"], e["id"]) for e in expected]
    assert len(expected) == 2 * (12 + 2 * record_snapshot.PER_SOURCE) + 12


def test_records_match_the_fixture(fixture_and_records):
    probe, expected, actual = fixture_and_records
    if record_snapshot.probe() == probe:
        # Same floating-point results as the machine that wrote the fixture: every byte must be the same.
        changed = [(e["run"], e["id"]) for e, a in zip(expected, actual, strict=True) if e["sha256"] != a["sha256"]]
        assert not changed, f"{len(changed)} records changed, first: {changed[:5]}"
    else:
        differences = [
            f"{e['run']} {e['id']}{d}" for e, a in zip(expected, actual, strict=True)
            for d in record_snapshot.compare(e["view"], a["view"])
        ]
        assert not differences, "\n".join(differences[:20])


def test_the_view_hides_article_text_but_keeps_labels():
    record = {"id": "x", "summary": "A copied sentence.", "themes": [{"name": "politics", "score": 0.9,
              "evidence": {"sentence": "Copied.", "terms": ["vote"]}}], "summary_method": "extractive"}
    view = record_snapshot.text_free(record)
    assert view["summary"] == "sha1:" + hashlib.sha1(b"A copied sentence.").hexdigest()
    assert view["themes"][0]["evidence"]["sentence"].startswith("sha1:")
    assert view["themes"][0]["name"] == "politics" and view["summary_method"] == "extractive"
    assert "Copied" not in json.dumps(view)


def test_compare_tolerates_rounding_and_labels_at_the_cut_only():
    base = {"themes": [{"name": "a", "score": 0.90}, {"name": "b", "score": 0.41}]}
    rounded = {"themes": [{"name": "a", "score": 0.905}, {"name": "b", "score": 0.41}]}
    assert record_snapshot.compare(base, rounded) == []
    # "b" sits at the lowest kept score: dropped by a rounding difference, tolerated.
    assert record_snapshot.compare(base, {"themes": [{"name": "a", "score": 0.90}]}) == []
    assert record_snapshot.compare(base, {"themes": [{"name": "b", "score": 0.41}]})  # "a" far above the cut
    assert record_snapshot.compare({"summary": "x"}, {"summary": "y"})
