"""Fair scheduling in the HTTP service's batcher: a large request is computed in parts of at most max_batch that
interleave with other requests, counts at most max_batch against the queue limit, and stops at its deadline or
when its caller gives up (fake components, the real batcher)."""

from __future__ import annotations

import threading
import time

import pytest

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.serve import BatcherConfig, DeadlinePassed, MicroBatcher, QueueFull

CLASSIFY = AnalyzeOptions(tasks=("classify",))


class GatedClassifier:
    """The fake classifier, holding each call until ``gate`` is set when one is given; records call sizes."""

    version = "fake-classifier-1"

    def __init__(self, delay_per_article: float = 0.0, gate: threading.Event | None = None):
        from conftest import FakeClassifier

        self.inner, self.delay, self.gate = FakeClassifier(), delay_per_article, gate
        self.calls: list[list[str]] = []
        self.started = threading.Event()

    def classify(self, texts, thresholds=None, top_k=None, explain=False):
        self.calls.append(list(texts))
        self.started.set()
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delay * len(texts))
        return self.inner.classify(texts, thresholds, top_k, explain)


@pytest.fixture
def make():
    made: list[MicroBatcher] = []

    def build(clf: GatedClassifier, **config) -> MicroBatcher:
        from conftest import FakeSummarizer

        analyzer = Analyzer(clf, FakeSummarizer())
        batcher = MicroBatcher(lambda: analyzer, BatcherConfig(**{"max_wait_s": 0.0, **config}))
        batcher.start()
        made.append(batcher)
        return batcher

    yield build
    for batcher in made:
        batcher.stop()


def big(n: int = 256) -> tuple[list[str], list[str]]:
    return [f"Kenya story {i}." for i in range(n)], [f"b{i}" for i in range(n)]


def test_a_large_request_runs_in_parts_that_interleave_with_a_small_one(make):
    clf = GatedClassifier(delay_per_article=0.002)
    batcher = make(clf, max_batch=32)
    whole = batcher.submit(*big(), CLASSIFY)
    assert clf.started.wait(10)
    small = batcher.submit(["Japan won the match."], ["small"], CLASSIFY)
    assert small.result(10)[0].id == "small"
    assert not whole.done()  # answered between two parts of the large request, not after all of it
    records = whole.result(20)
    assert [r.id for r in records] == big()[1] and all(r.countries[0].code == "KE" for r in records)
    assert max(len(call) for call in clf.calls) <= 32
    assert sum(len(call) for call in clf.calls) == 257  # each article computed once


def test_a_large_request_counts_at_most_max_batch_against_the_queue_limit(make):
    gate = threading.Event()
    clf = GatedClassifier(gate=gate)
    batcher = make(clf, max_batch=32, queue_limit=64)
    busy = batcher.submit(["Chile."], ["busy"], CLASSIFY)
    assert clf.started.wait(10)  # the worker holds a call: what follows waits in the queue
    whole = batcher.submit(*big(), CLASSIFY)  # counts 32
    small = [batcher.submit([f"Kenya {i}."], [f"s{i}"], CLASSIFY) for i in range(32)]  # 32 more: 64 in all
    with pytest.raises(QueueFull):
        batcher.submit(["One too many."], ["x"], CLASSIFY)
    gate.set()
    assert busy.result(10) and len(whole.result(20)) == 256 and all(f.result(10) for f in small)


def test_a_request_past_its_deadline_is_not_computed_further(make):
    clf = GatedClassifier(delay_per_article=0.005)  # a part of 32 articles: 0.16 s
    batcher = make(clf, max_batch=32)
    late = batcher.submit(*big(), CLASSIFY, deadline=time.monotonic() + 0.25)
    with pytest.raises(DeadlinePassed):
        late.result(20)
    computed = sum(len(call) for call in clf.calls)
    assert computed < 256  # the parts after the deadline were dropped
    time.sleep(0.3)
    assert sum(len(call) for call in clf.calls) == computed


def test_an_abandoned_request_stops_after_the_part_in_progress(make):
    clf = GatedClassifier(delay_per_article=0.005)
    batcher = make(clf, max_batch=32)
    whole = batcher.submit(*big(), CLASSIFY)
    assert clf.started.wait(10)
    batcher.abandon(whole)  # the client went away, or the server answered 504
    time.sleep(0.5)
    assert sum(len(call) for call in clf.calls) <= 64 and not whole.done()
    assert batcher.submit(["Kenya."], ["next"], CLASSIFY).result(10)[0].id == "next"  # the worker is free
