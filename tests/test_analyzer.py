"""The Python API as a user meets it: str in → one record, list in → list out, bad rows, options, threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import FakeClassifier, FakeSummarizer

from nlp_service import Analysis, Analyzer, Classification, InputError, Summary


def test_string_gives_one_record_and_list_gives_a_list(fake_analyzer):
    one = fake_analyzer.analyze("Parliament debates the election in France.")
    assert isinstance(one, Analysis) and one.summary and one.themes
    many = fake_analyzer.analyze(["Parliament votes in France.", "A match in Brazil."], ids=["a", "b"])
    assert [r.id for r in many] == ["a", "b"]
    assert isinstance(fake_analyzer.classify("Kenya election."), Classification)
    assert isinstance(fake_analyzer.summarize(["A flood in India.", "Bank rates rise."])[1], Summary)


def test_bad_rows_become_error_records_and_the_rest_go_on(fake_analyzer):
    records = fake_analyzer.analyze(["", "A good article about a match in Japan.", 17])
    assert records[0].error == "empty text" and records[0].themes is None
    assert records[1].error is None and records[1].themes
    assert "string" in records[2].error
    with pytest.raises(InputError):
        fake_analyzer.analyze("   ")


def test_tasks_select_fields_and_model_versions(fake_analyzer):
    rec = fake_analyzer.analyze("A vaccine trial in India.", tasks=("classify",)).to_dict()
    assert "themes" in rec and "summary" not in rec
    assert set(rec["model"]) == {"classifier"}
    with pytest.raises(ValueError, match="tasks"):
        fake_analyzer.analyze("text", tasks=("translate",))


def test_components_load_once_even_under_concurrent_first_use():
    loads = []
    lock = threading.Lock()

    def make_classifier():
        with lock:
            loads.append(1)
        return FakeClassifier(delay=0.01)

    analyzer = Analyzer(make_classifier, FakeSummarizer)
    assert not analyzer.ready
    texts = [f"Election number {i} in Norway." for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: analyzer.classify(t), texts))
    assert len(loads) == 1 and len(results) == 16
    analyzer.warm_up()
    assert analyzer.ready and set(analyzer.versions) == {"classifier", "summarizer"}
