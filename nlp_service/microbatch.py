"""Dynamic micro-batching for the HTTP service: requests that arrive together share one model call.

One worker thread owns the models. Requests wait in a bounded queue; the worker takes the oldest, gathers the
requests with the same options that are waiting (or arrive within ``max_wait_s``) up to ``max_batch``
articles, and answers them all with one ``Analyzer.analyze_prepared`` call (``Analyzer.verify_prepared`` for
verification requests, ``submit_verify``: they share the queue, its limit and the worker). Under load the queue
fills while a batch runs, so batches grow by themselves; an idle server answers a lone request after
``max_wait_s``.

Past ``queue_limit`` waiting articles ``submit`` raises ``QueueFull`` at once (the service answers 503 with
``Retry-After``) instead of letting latency grow without bound. A request whose caller gave up (timeout,
disconnect) is dropped before its model call.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.records import Analysis, Verification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatcherConfig:
    max_batch: int = 32  # articles per model call (the classifier's measured sweet spot on CPU)
    max_wait_s: float = 0.005  # how long a request waits for company when the worker is idle
    # Articles waiting for the worker; past it, 503. Above 50 so that 50 one-article clients never see a 503;
    # 64 + a running batch of 32 is about 2 s of classification on 2 cores.
    queue_limit: int = 64
    # Niceness added to the model thread (Linux: per thread): the event loop, which answers /healthz and
    # refuses excess requests, then gets a busy CPU before the model does. 0 leaves the priority alone.
    worker_nice: int = 0

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.queue_limit < 1 or self.max_wait_s < 0:
            raise ValueError("max_batch and queue_limit must be at least 1, max_wait_s at least 0")


class QueueFull(Exception):
    """The queue holds ``queue_limit`` articles already."""


ARTICLE_FAILED = "analysis failed (an internal error; the server log has the cause)"
VERIFY_KEY = ("verify",)  # verification requests batch with each other only


def _options_key(options: AnalyzeOptions | None) -> tuple:
    if options is None:
        return VERIFY_KEY
    thresholds = tuple(sorted(options.thresholds.items())) if options.thresholds else None
    return (options.tasks, thresholds, options.top_k, options.max_words, options.method, options.explain)


@dataclass
class _Job:
    texts: list[object]
    ids: list[str | None]
    options: AnalyzeOptions | None  # None: a verification request (``summaries`` set)
    summaries: list[object] | None = None
    key: tuple = field(init=False)
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)

    def __post_init__(self) -> None:
        self.key = _options_key(self.options)


def _call(analyzer: Analyzer, jobs: list[_Job]) -> list:
    """One model call for ``jobs`` (all with the same key): their records, in order."""
    texts = [t for job in jobs for t in job.texts]
    ids = [i for job in jobs for i in job.ids]
    if jobs[0].key == VERIFY_KEY:
        return analyzer.verify_prepared(texts, [s for job in jobs for s in job.summaries or ()], ids)
    return analyzer.analyze_prepared(texts, ids, jobs[0].options)


@dataclass
class BatcherStats:
    batches: int = 0
    articles: int = 0
    largest: int = 0


class MicroBatcher:
    """``submit(texts, ids, options)`` → a Future of the records; one worker thread runs the model calls."""

    def __init__(self, analyzer: Callable[[], Analyzer], config: BatcherConfig = BatcherConfig()):
        self._analyzer = analyzer
        self.config = config
        self.stats = BatcherStats()
        self._jobs: deque[_Job] = deque()
        self._queued = 0  # articles in self._jobs
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="nlp-service-model", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    @property
    def queued(self) -> int:
        return self._queued

    def submit(
        self, texts: list[object], ids: list[str | None], options: AnalyzeOptions
    ) -> concurrent.futures.Future:
        return self._enqueue(_Job(list(texts), list(ids), options))

    def submit_verify(
        self, texts: list[object], summaries: list[object], ids: list[str | None]
    ) -> concurrent.futures.Future:
        """Verification of ``summaries`` against ``texts``: a Future of ``Verification`` records."""
        if len(summaries) != len(texts):
            raise ValueError(f"{len(texts)} articles but {len(summaries)} summaries")
        return self._enqueue(_Job(list(texts), list(ids), None, list(summaries)))

    def _enqueue(self, job: _Job) -> concurrent.futures.Future:
        with self._cond:
            # An empty queue takes any request (one larger than the limit would otherwise never get in).
            if self._queued and self._queued + len(job.texts) > self.config.queue_limit:
                raise QueueFull(f"{self._queued} articles are waiting")
            self._jobs.append(job)
            self._queued += len(job.texts)
            self._cond.notify()
        return job.future

    # -- worker ------------------------------------------------------------------------------------------------
    def _take(self) -> list[_Job] | None:
        """The next batch: the oldest job and the waiting jobs with its options, up to max_batch articles."""
        with self._cond:
            while not self._jobs and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            first = self._jobs[0]
            deadline = time.monotonic() + self.config.max_wait_s
            while self._count(first.key) < self.config.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, size, keep = [], 0, deque()
            while self._jobs:
                job = self._jobs.popleft()
                if job.key == first.key and (not batch or size + len(job.texts) <= self.config.max_batch):
                    batch.append(job)
                    size += len(job.texts)
                    self._queued -= len(job.texts)
                else:
                    keep.append(job)
            self._jobs = keep
            return batch

    def _count(self, key: tuple) -> int:
        return sum(len(job.texts) for job in self._jobs if job.key == key)

    def _run(self) -> None:
        if self.config.worker_nice:
            try:
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.config.worker_nice)
            except OSError as exc:  # a platform without per-thread priorities: run as is
                log.warning("cannot lower the model thread's priority: %s", exc)
        while True:
            batch = self._take()
            if batch is None:
                return
            # A caller that gave up (timeout, disconnect) cancelled its future: skip its model work.
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            if live:
                self._answer(live)

    def _answer(self, jobs: list[_Job]) -> None:
        try:
            records = _call(self._analyzer(), jobs)
        except Exception as exc:
            if len(jobs) == 1:
                self._after_failure(jobs[0], exc)
                return
            # One request's article broke the shared call: answer each request on its own, so only that one fails.
            log.warning("a batch of %d requests failed (%s); answering them one by one", len(jobs), exc)
            for job in jobs:
                self._answer_one(job)
            return
        self._record(len(records))
        start = 0
        for job in jobs:
            job.future.set_result(records[start : start + len(job.texts)])
            start += len(job.texts)

    def _answer_one(self, job: _Job) -> None:
        try:
            records: list = _call(self._analyzer(), [job])
        except Exception as exc:
            self._after_failure(job, exc)
            return
        self._record(len(job.texts))
        job.future.set_result(records)

    def _after_failure(self, job: _Job, exc: Exception) -> None:
        """A request whose model call failed: one article gets the exception (a 500), a list is answered
        article by article, so that only the article that fails alone loses its result."""
        if len(job.texts) == 1:
            job.future.set_exception(exc)
            return
        log.warning("a request of %d articles failed (%s); answering its articles one by one", len(job.texts), exc)
        records = [self._one_article(job, i) for i in range(len(job.texts))]
        self._record(len(job.texts))
        job.future.set_result(records)

    def _one_article(self, job: _Job, i: int) -> Analysis | Verification:
        """Article ``i`` of ``job`` on its own; if it fails alone, its record says so (the cause goes to the log,
        never to the client) and the request's other articles keep their results."""
        part = _Job(job.texts[i : i + 1], job.ids[i : i + 1], job.options, (job.summaries or [])[i : i + 1] or None)
        try:
            return _call(self._analyzer(), [part])[0]
        except Exception:
            log.exception("article %s of a request failed", job.ids[i])
            if job.key == VERIFY_KEY:
                return Verification(False, 0.0, [], id=job.ids[i], error=ARTICLE_FAILED)
            return Analysis(id=job.ids[i], error=ARTICLE_FAILED)

    def _record(self, n: int) -> None:
        self.stats.batches += 1
        self.stats.articles += n
        self.stats.largest = max(self.stats.largest, n)
