"""Batch jobs for the web page: an uploaded JSONL or CSV file is analysed through the service's own bounded
queue (the ``MicroBatcher`` that serves ``/v1/analyze``), a few articles at a time, while the page polls its
progress.

The store lives in the server process (memory only): a job survives a page reload (the page keeps its id), not
a server restart. Rows are read by the batch script's own readers and rules (``nlp_service.batch``), so a row
the batch script turns into an error record is an error record here too, with the same message.

Why a few articles at a time: a job never holds more than ``chunk`` places of the queue, so a person pressing
Analyze on the page while a 1,000-row job runs waits behind at most one chunk, not the whole file. Past the
queue's limit a chunk waits and tries again, as any client told ``Retry-After`` would.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from nlp_service.analyzer import TASKS, AnalyzeOptions
from nlp_service.batch import (
    BadRow,
    BatchError,
    RowRules,
    check_jsonl_fields,
    read_csv,
    read_jsonl,
    record_bytes,
    row_id,
    row_label,
)
from nlp_service.records import Analysis
from nlp_service.serve.microbatch import MicroBatcher, QueueFull

log = logging.getLogger(__name__)

JOB_FORMATS = ("jsonl", "csv")
_FORMAT_OF = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


@dataclass(frozen=True)
class JobLimits:
    max_rows: int = 1_000  # rows per uploaded file (the body limit, 2 MB by default, applies as well)
    max_jobs: int = 20  # jobs kept in memory; past it the oldest finished one is dropped
    keep_s: float = 24 * 3600.0  # a finished job's records can be downloaded for this long
    chunk: int = 8  # articles per queued request; the rest of the queue stays free for interactive requests
    busy_wait_s: float = 0.5  # wait before queueing a chunk again when the queue is full or models load


class JobError(Exception):
    """An upload that cannot become a job; ``status`` is the HTTP status the server answers with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class _Row:
    id: str
    where: str  # "line 3" / "row 3", as the batch script names rows
    text: str | None  # None once analysed, or when the row failed before the models
    record: dict[str, Any] | None = None


@dataclass
class Job:
    id: str
    filename: str
    fmt: str
    tasks: tuple[str, ...]
    rows: list[_Row]
    created: float = field(default_factory=time.time)
    status: str = "queued"  # queued → running → done | failed | cancelled
    message: str | None = None  # why a job failed
    finished: float | None = None
    task: asyncio.Task | None = None

    @property
    def done(self) -> int:
        return sum(r.record is not None for r in self.rows)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.record is not None and r.record.get("error"))

    def summary(self) -> dict[str, Any]:
        """What the page polls: status, counts, and every error row (few: at most ``max_rows``)."""
        errors = [
            {"row": r.where, "id": r.id, "error": r.record["error"]}
            for r in self.rows
            if r.record is not None and r.record.get("error")
        ]
        return {
            "id": self.id,
            "filename": self.filename,
            "format": self.fmt,
            "tasks": list(self.tasks),
            "status": self.status,
            "message": self.message,
            "total": len(self.rows),
            "done": self.done,
            "failed": len(errors),
            "errors": errors,
            "created": round(self.created, 3),
            "finished": None if self.finished is None else round(self.finished, 3),
        }

    def records(self) -> list[dict[str, Any]]:
        return [r.record for r in self.rows if r.record is not None]


def job_format(fmt: str | None, filename: str | None) -> str:
    """``fmt`` if given, else from the file name's extension."""
    if fmt:
        if fmt not in JOB_FORMATS:
            raise JobError(422, f"unknown format {fmt!r}; upload JSONL or CSV")
        return fmt
    name = (filename or "").lower()
    for ext, found in _FORMAT_OF.items():
        if name.endswith(ext):
            return found
    raise JobError(422, "cannot tell the file's format from its name; upload a .jsonl or .csv file")


def parse_upload(data: bytes, fmt: str, max_rows: int) -> list[_Row]:
    """The file's rows as the batch script reads them: parse errors and duplicate ids become error records."""
    # utf-8-sig and errors="replace" as the batch script reads files: a spreadsheet's byte-order mark does not
    # stick to the first column's name, and one bad byte becomes U+FFFD instead of refusing the file.
    text = data.decode("utf-8-sig", errors="replace")
    reader = read_jsonl(io.StringIO(text)) if fmt == "jsonl" else read_csv(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    rules = RowRules(Counter())
    try:
        source: Iterator[tuple[int, dict[str, Any] | BadRow]] = (
            check_jsonl_fields(reader, "the file") if fmt == "jsonl" else reader
        )
        for row_no, row in source:
            if len(rows) >= max_rows:
                raise JobError(413, f"the file has more than {max_rows:,} rows; split it into smaller files")
            item = rules.item(row_id(row, row_no), row_label(fmt, row_no), row)
            assert item is not None  # nothing is "already done" in a fresh job
            record = None if item.record is None else item.record.to_dict()
            rows.append(_Row(item.id, item.where, item.text, record))
    except BatchError as exc:
        raise JobError(422, str(exc)) from None
    if not rows:
        raise JobError(422, "the file has no rows")
    return rows


class JobStore:
    """Jobs by id; each runs as one asyncio task on the server's event loop, one job at a time."""

    def __init__(
        self,
        batcher: MicroBatcher,
        ready: Callable[[], bool],
        load_failed: Callable[[], str | None],
        limits: JobLimits | None = None,
    ):
        self.batcher, self.ready, self.load_failed = batcher, ready, load_failed
        self.limits = limits or JobLimits()
        self._jobs: dict[str, Job] = {}
        self._turn: asyncio.Lock | None = None  # one job analyses at a time; later ones wait their turn

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def prepare(self, data: bytes, fmt: str, filename: str, tasks: tuple[str, ...]) -> Job:
        """The upload parsed into a job that is not started yet (any thread: it touches no shared state)."""
        if not tasks or set(tasks) - set(TASKS):
            raise JobError(422, f"tasks must be a non-empty subset of {', '.join(TASKS)}")
        rows = parse_upload(data, fmt, self.limits.max_rows)
        # 128 random bits: the id is the only key to a job's records.
        return Job(secrets.token_hex(16), filename or "upload", fmt, tuple(tasks), rows)

    def start(self, job: Job) -> None:
        """Keep ``job`` and start it on the running event loop (call it there)."""
        self._prune()
        if len(self._jobs) >= self.limits.max_jobs:
            raise JobError(503, f"{len(self._jobs)} jobs are queued or running; retry when one has finished")
        self._jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job), name=f"nlp-service-job-{job.id}")

    def cancel(self, job_id: str) -> bool:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        if job.task is not None and not job.task.done():
            job.task.cancel()
        return True

    async def close(self) -> None:
        """Stop the running jobs (server shutdown)."""
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _prune(self) -> None:
        now = time.time()
        finished = sorted(
            (j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.finished or 0.0
        )
        for job in finished:
            if now - (job.finished or now) > self.limits.keep_s or len(self._jobs) >= self.limits.max_jobs:
                del self._jobs[job.id]

    # -- running -----------------------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        if self._turn is None:
            self._turn = asyncio.Lock()
        try:
            async with self._turn:
                job.status = "running"
                options = AnalyzeOptions(job.tasks)
                todo = [r for r in job.rows if r.record is None]
                for start in range(0, len(todo), self.limits.chunk):
                    await self._analyse(todo[start : start + self.limits.chunk], options)
            job.status = "done"
        except asyncio.CancelledError:
            job.status = "cancelled"
            raise
        except _LoadFailed as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # a bug: the job says so rather than polling "running" for ever
            log.exception("job %s failed", job.id)
            job.status, job.message = "failed", f"internal error ({type(exc).__name__}); see the server log"
        finally:
            job.finished = time.time()
            for row in job.rows:
                row.text = None  # the records are what is kept

    async def _analyse(self, rows: list[_Row], options: AnalyzeOptions) -> None:
        texts, ids = [r.text or "" for r in rows], [r.id for r in rows]
        try:
            records = await self._queued(texts, ids, options)
        except (_LoadFailed, asyncio.CancelledError):
            raise
        except Exception as exc:
            if len(rows) == 1:
                records = [Analysis(id=ids[0], error=f"analysis failed: {type(exc).__name__}: {exc}")]
            else:  # as the batch script does: one row that breaks the model call fails alone
                log.warning("a job chunk of %d failed (%s); retrying row by row", len(rows), exc)
                for row in rows:
                    await self._analyse([row], options)
                return
        for row, record in zip(rows, records, strict=True):
            if record.error:
                record = replace(record, error=f"{row.where}: {record.error}")
            row.record, row.text = record.to_dict(), None

    async def _queued(self, texts: list[str], ids: list[str], options: AnalyzeOptions) -> list[Analysis]:
        """One chunk through the batcher's queue, waiting while the models load or the queue is full."""
        while True:
            failed = self.load_failed()
            if failed:
                raise _LoadFailed(f"the models failed to load ({failed}); see the server log")
            if self.ready():
                try:
                    future = self.batcher.submit(list(texts), list(ids), options)
                    break
                except QueueFull:
                    pass
            await asyncio.sleep(self.limits.busy_wait_s)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()  # a cancelled job's chunk is dropped if the model thread has not begun it
            raise


class _LoadFailed(Exception):
    pass


# -- downloads -------------------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "id", "countries", "regions", "themes", "summary", "summary_method", "faithful", "warnings", "error"
)
# A cell that starts with one of these is a formula to a spreadsheet; a leading apostrophe makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def records_jsonl(records: list[dict[str, Any]]) -> bytes:
    """One record per line, written exactly as the batch script writes them."""
    return b"".join(record_bytes(r) for r in records)


def records_csv(records: list[dict[str, Any]]) -> str:
    """One row per record for spreadsheets: lists as "name (score)" joined by "; " (mentions and theme
    evidence are left to the JSONL)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        countries = "; ".join(f"{c['name']} ({c['code']}) {c['score']:.2f}" for c in r.get("countries") or [])
        regions = "; ".join(f"{x['name']} {x['score']:.2f}" for x in r.get("regions") or [])
        themes = "; ".join(f"{t['name']} {t['score']:.2f}" for t in r.get("themes") or [])
        faithful = r.get("faithful")
        cells = [
            r.get("id") or "",
            countries,
            regions,
            themes,
            r.get("summary") or "",
            r.get("summary_method") or "",
            "" if faithful is None else ("yes" if faithful else "no"),
            " | ".join(r.get("warnings") or []),
            r.get("error") or "",
        ]
        writer.writerow([_safe_cell(str(c)) for c in cells])
    # A byte-order mark: spreadsheet programs otherwise read UTF-8 CSV as their local code page.
    return "\ufeff" + out.getvalue()


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value
