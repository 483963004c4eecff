"""Dynamic micro-batching for the HTTP service: requests that arrive together share one model call.

One worker thread owns the models. Requests wait in a bounded queue; the worker takes the oldest, gathers the
requests with the same options that are waiting (or arrive within ``max_wait_s``) up to ``max_batch``
articles, and answers them all with one ``Analyzer.analyze_prepared`` call (``Analyzer.verify_prepared`` for
verification requests, ``submit_verify``: they share the queue, its limit and the worker). Under load the queue
fills while a batch runs, so batches grow by themselves; an idle server answers a lone request after
``max_wait_s``.

A request of more than ``max_batch`` articles is served in parts of ``part_size``: after each part it goes
back to the end of the queue, so one-article requests that arrived meanwhile get a model call between two
of its parts instead of waiting for all of it. For the queue limit a request counts at most ``max_batch``
articles (the part it can have in the next call), so one large request cannot make every other client wait.

Past ``queue_limit`` waiting articles ``submit`` raises ``QueueFull`` at once (the service answers 503 with
``Retry-After``) instead of letting latency grow without bound. A request whose caller gave up (timeout,
disconnect: ``abandon``) or whose ``deadline`` has passed is dropped before its next part: work nobody will read
is not computed.
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
    # A request of more than max_batch articles is computed part_size articles at a time, taking turns with the
    # other requests: a one-article request then waits for one such part, not for the whole request. Measured
    # with the fake classifier at 86 ms per article (a 256-article call of 22 s) and 20 one-article clients:
    # parts of 32 gave those clients p99 4.9 s, parts of 16 p99 3.2 s (docs/reliability.md).
    part_size: int = 16
    # Niceness added to the model thread (Linux: per thread): the event loop, which answers /healthz and
    # refuses excess requests, then gets a busy CPU before the model does. 0 leaves the priority alone.
    worker_nice: int = 0

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.queue_limit < 1 or self.part_size < 1 or self.max_wait_s < 0:
            raise ValueError("max_batch, queue_limit and part_size must be at least 1, max_wait_s at least 0")


class QueueFull(Exception):
    """The queue holds ``queue_limit`` articles already."""


ARTICLE_FAILED = "analysis failed (an internal error; the server log has the cause)"
VERIFY_KEY = ("verify",)  # verification requests batch with each other only


def _options_key(options: AnalyzeOptions | None) -> tuple:
    if options is None:
        return VERIFY_KEY
    thresholds = tuple(sorted(options.thresholds.items())) if options.thresholds else None
    return (options.tasks, thresholds, options.top_k, options.max_words, options.method, options.explain)


class RequestFuture(concurrent.futures.Future):
    """The Future of one request; ``abandoned`` once its caller stops waiting (see ``MicroBatcher.abandon``)."""

    abandoned = False


class DeadlinePassed(TimeoutError):
    """The request's deadline passed before all of its parts were computed; the rest was not."""


@dataclass
class _Request:
    """One submitted request: its articles, the records made so far, and when its caller stops waiting."""

    texts: list[object]
    ids: list[str | None]
    options: AnalyzeOptions | None  # None: a verification request (``summaries`` set)
    summaries: list[object] | None = None
    deadline: float | None = None  # time.monotonic() past which nobody reads the answer
    key: tuple = field(init=False)
    future: RequestFuture = field(default_factory=RequestFuture)
    done: list = field(default_factory=list)  # records of the parts computed so far

    def __post_init__(self) -> None:
        self.key = _options_key(self.options)

    @property
    def remaining(self) -> int:
        return len(self.texts) - len(self.done)

    def part(self, n: int) -> _Job:
        start, end = len(self.done), len(self.done) + n
        summaries = None if self.summaries is None else self.summaries[start:end]
        return _Job(self.texts[start:end], self.ids[start:end], self.options, summaries, self)

    def given_up(self) -> bool:
        return self.future.abandoned or self.future.cancelled()

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline


@dataclass
class _Job:
    """One model call's share of a request: at most ``max_batch`` of its articles."""

    texts: list[object]
    ids: list[str | None]
    options: AnalyzeOptions | None
    summaries: list[object] | None
    owner: _Request

    @property
    def key(self) -> tuple:
        return self.owner.key


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
        self._requests: deque[_Request] = deque()
        self._queued = 0  # articles waiting in self._requests
        self._charged = 0  # what they count against queue_limit: at most max_batch per request
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
        self, texts: list[object], ids: list[str | None], options: AnalyzeOptions, deadline: float | None = None
    ) -> RequestFuture:
        return self._enqueue(_Request(list(texts), list(ids), options, deadline=deadline))

    def submit_verify(
        self, texts: list[object], summaries: list[object], ids: list[str | None], deadline: float | None = None
    ) -> RequestFuture:
        """Verification of ``summaries`` against ``texts``: a Future of ``Verification`` records."""
        if len(summaries) != len(texts):
            raise ValueError(f"{len(texts)} articles but {len(summaries)} summaries")
        return self._enqueue(_Request(list(texts), list(ids), None, list(summaries), deadline=deadline))

    @staticmethod
    def abandon(future: concurrent.futures.Future) -> None:
        """The caller stopped waiting: the request's parts not yet computed never will be."""
        if isinstance(future, RequestFuture):
            future.abandoned = True
        future.cancel()

    def _part(self, request: _Request) -> int:
        """How many of the request's articles its next part computes: all of a small one, part_size of a large."""
        return request.remaining if request.remaining <= self.config.max_batch else self.config.part_size

    def _charge(self, request: _Request) -> int:
        return min(request.remaining, self.config.max_batch)

    def _enqueue(self, request: _Request) -> RequestFuture:
        with self._cond:
            # An empty queue takes any request (one larger than the limit would otherwise never get in).
            if self._requests and self._charged + self._charge(request) > self.config.queue_limit:
                raise QueueFull(f"{self._queued} articles are waiting")
            self._push(request)
        return request.future

    def _push(self, request: _Request) -> None:
        """Queue ``request`` at the back (the caller holds the lock)."""
        self._requests.append(request)
        self._queued += request.remaining
        self._charged += self._charge(request)
        self._cond.notify()

    # -- worker ------------------------------------------------------------------------------------------------
    def _take(self) -> list[_Job] | None:
        """The next model call: the oldest request's next part and the next parts of the waiting requests with
        its options, up to max_batch articles. The requests that get a part leave the queue until it is done."""
        with self._cond:
            while not self._requests and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            first = self._requests[0]
            deadline = time.monotonic() + self.config.max_wait_s
            while self._count(first.key) < self.config.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            parts, size, keep = [], 0, deque()
            for request in self._requests:
                room = self.config.max_batch - size
                # The oldest request gives a part of any size; the others join only whole, so that a call led by a
                # small request is not lengthened by a part of a large one (it gets its own turn).
                if request.key == first.key and (request.remaining <= room or (request is first and room > 0)):
                    parts.append(request.part(min(room, self._part(request))))
                    size += len(parts[-1].texts)
                    self._queued -= request.remaining
                    self._charged -= self._charge(request)
                else:
                    keep.append(request)
            self._requests = keep
            return parts

    def _count(self, key: tuple) -> int:
        return sum(request.remaining for request in self._requests if request.key == key)

    def _run(self) -> None:
        if self.config.worker_nice:
            try:
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.config.worker_nice)
            except OSError as exc:  # a platform without per-thread priorities: run as is
                log.warning("cannot lower the model thread's priority: %s", exc)
        while True:
            parts = self._take()
            if parts is None:
                return
            live = [part for part in parts if self._still_wanted(part.owner)]
            if live:
                for part, result in zip(live, self._answer(live), strict=True):
                    self._settle(part.owner, result)

    @staticmethod
    def _still_wanted(request: _Request) -> bool:
        """False (and the request ends) when its caller gave up or its deadline passed: skip its model work."""
        if request.given_up():
            request.future.cancel()
            return False
        if request.past_deadline():
            if not request.future.done():
                request.future.set_exception(DeadlinePassed(f"{request.remaining} articles were not computed"))
            return False
        # The first part starts the Future (a cancel() after this point no longer stops it, ``abandoned`` does).
        return bool(request.done) or request.future.set_running_or_notify_cancel()

    def _settle(self, request: _Request, result: list | Exception) -> None:
        """A part's outcome: the request is answered, failed, or queued again (at the back) for its next part."""
        if isinstance(result, Exception):
            request.future.set_exception(result)
            return
        request.done.extend(result)
        if request.remaining == 0:
            request.future.set_result(request.done)
            return
        with self._cond:
            self._push(request)

    def _answer(self, parts: list[_Job]) -> list[list | Exception]:
        """Each part's records, or the exception that fails its request."""
        try:
            records = _call(self._analyzer(), parts)
        except Exception as exc:
            if len(parts) == 1:
                return [self._after_failure(parts[0], exc)]
            # One request's article broke the shared call: answer each request on its own, so only that one fails.
            log.warning("a batch of %d requests failed (%s); answering them one by one", len(parts), exc)
            return [self._answer_one(part) for part in parts]
        self._record(len(records))
        out, start = [], 0
        for part in parts:
            out.append(records[start : start + len(part.texts)])
            start += len(part.texts)
        return out

    def _answer_one(self, part: _Job) -> list | Exception:
        try:
            records: list = _call(self._analyzer(), [part])
        except Exception as exc:
            return self._after_failure(part, exc)
        self._record(len(part.texts))
        return records

    def _after_failure(self, part: _Job, exc: Exception) -> list | Exception:
        """A part whose model call failed: a one-article request gets the exception (a 500); the articles of a
        list are answered one by one, so that only the article that fails alone loses its result."""
        if len(part.owner.texts) == 1:
            return exc
        log.warning("%d articles of a request failed together (%s); answering them one by one", len(part.texts), exc)
        records = [self._one_article(part, i) for i in range(len(part.texts))]
        self._record(len(part.texts))
        return records

    def _one_article(self, part: _Job, i: int) -> Analysis | Verification:
        """Article ``i`` of ``part`` on its own; if it fails alone, its record says so (the cause goes to the
        log, never to the client) and the request's other articles keep their results."""
        summaries = None if part.summaries is None else part.summaries[i : i + 1]
        one = _Job(part.texts[i : i + 1], part.ids[i : i + 1], part.options, summaries, part.owner)
        try:
            return _call(self._analyzer(), [one])[0]
        except Exception:
            log.exception("article %s of a request failed", part.ids[i])
            if part.key == VERIFY_KEY:
                return Verification(False, 0.0, [], id=part.ids[i], error=ARTICLE_FAILED)
            return Analysis(id=part.ids[i], error=ARTICLE_FAILED)

    def _record(self, n: int) -> None:
        self.stats.batches += 1
        self.stats.articles += n
        self.stats.largest = max(self.stats.largest, n)
