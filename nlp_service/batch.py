"""Batch inference: read articles (JSONL, CSV, Parquet), analyse them in length-sorted batches, append one
JSON record per article to a JSONL file, and resume after a crash without duplicating or losing a record.

Three jobs, one section each:

- readers: ``read_rows(path, fmt)`` yields ``(row_no, row_dict | BadRow)``; a line that is not JSON becomes a
  ``BadRow``, never an exception.
- writer / resume: ``done_ids(path)`` reads what a previous run wrote (cutting off a half-written last
  line) and ``RecordWriter`` appends each record with a single ``os.write``, so a killed run leaves whole
  lines only.
- runner: ``run_batch(analyzer, input, output, config)`` ties them together and returns ``BatchStats``.

Output order is input order. Inside a window of ``window_factor × batch_size`` rows the texts are sorted by
length before they are batched (similar lengths pad less), and the records are written back in input order.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.records import Analysis

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
STDIO = "-"
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}

NO_TEXT = "row has no text (expected 'text' or 'title'+'body')"
DUPLICATE_ID = "duplicate id"


class BatchError(Exception):
    """A usage or I/O problem that stops the whole run (unreadable input, unknown format): exit code 2."""


# ----------------------------------------------------------------------------------------------------
# Readers
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BadRow:
    """An input row that could not even be parsed; it becomes an error record."""

    reason: str
    id: str | None = None


def detect_format(path: str, override: str | None = None) -> str:
    """The input format: ``override`` if given, else by extension; stdin is JSONL."""
    if override:
        if override not in FORMATS:
            raise BatchError(f"unknown format {override!r}; choose one of {', '.join(FORMATS)}")
        return override
    if path == STDIO:
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise BatchError(
            f"cannot tell the format of {path!r} from its extension; pass --format {'|'.join(FORMATS)}"
        )
    return _EXTENSIONS[suffix]


def read_rows(path: str, fmt: str) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Rows of the input, numbered from 1 (JSONL: line number; CSV and Parquet: data row number)."""
    text_readers = {"jsonl": read_jsonl, "csv": read_csv}
    if fmt in text_readers:
        if path == STDIO:
            yield from text_readers[fmt](sys.stdin)
        else:
            with _open_text(path) as fh:
                yield from text_readers[fmt](fh)
    elif fmt == "parquet":
        if path == STDIO:
            raise BatchError("Parquet cannot be read from stdin; pass a file")
        yield from read_parquet(path)
    else:
        raise BatchError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _open_text(path: str) -> TextIO:
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark that would stick to the 1st key.
        # errors="replace": one bad byte in a million rows becomes U+FFFD rather than stopping the run.
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise BatchError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """One JSON object per line; blank lines are skipped but counted, so numbers match an editor's."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, BadRow(f"line is not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        yield line_no, row if isinstance(row, dict) else BadRow("line is not a JSON object")


def read_csv(fh: TextIO) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """CSV with a header row; every cell is a string, empty cells count as missing."""
    # The default cell limit (128 KiB) is below a long article; the limit is process-wide, raising it is safe.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.DictReader(fh)
    try:
        header = reader.fieldnames
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read the CSV header: {exc}") from exc
    if not header:
        raise BatchError("the CSV file is empty: a header row is required")
    if not ({"text", "title", "body"} & set(header)):
        raise BatchError(
            f"the CSV header has no 'text', 'title' or 'body' column (found: {', '.join(header)})"
        )
    row_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_no += 1
            yield row_no, BadRow(f"row is not valid CSV: {exc}")
            continue
        row_no += 1
        yield row_no, {k: (v if v != "" else None) for k, v in row.items() if k is not None}


def read_parquet(path: str, batch_rows: int = 1024) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Parquet, read one record batch at a time so a large file never sits in memory whole."""
    import pyarrow.parquet as pq  # imported here: only Parquet users pay for pyarrow

    try:
        pf = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a non-Parquet file
        raise BatchError(f"cannot read {path} as Parquet: {exc}") from exc
    row_no = 0
    for record_batch in pf.iter_batches(batch_size=batch_rows):
        for row in record_batch.to_pylist():
            row_no += 1
            yield row_no, row


def parquet_rows(path: str) -> int | None:
    try:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # only used for the progress bar's total
        return None


# ----------------------------------------------------------------------------------------------------
# Row → (id, text)
# ----------------------------------------------------------------------------------------------------
def row_id(row: dict[str, Any] | BadRow, row_no: int) -> str:
    """The row's ``id`` as a string; a row without one gets its row number, so reruns give it the same id."""
    value = row.id if isinstance(row, BadRow) else row.get("id")
    if value is None or value == "" or isinstance(value, bool) or not isinstance(value, str | int | float):
        return str(row_no)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # pandas-written files turn integer ids into floats: 7.0 → "7"
    return str(value)


def row_text(row: dict[str, Any]) -> str:
    """``text``, else ``title`` + newline + ``body``; ValueError says why a row has no usable text."""
    text = row.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        return text
    parts = [row.get("title"), row.get("body")]
    if all(p is None for p in parts):
        raise ValueError(NO_TEXT)
    for name, part in zip(("title", "body"), parts, strict=True):
        if part is not None and not isinstance(part, str):
            raise ValueError(f"{name} must be a string, got {type(part).__name__}")
    return "\n".join(p for p in parts if p)


# ----------------------------------------------------------------------------------------------------
# Writer and resume
# ----------------------------------------------------------------------------------------------------
def done_ids(path: str) -> Counter[str]:
    """How many records each id already has in ``path``; a half-written last line is cut off first.

    A count rather than a set so that a duplicate id in the input (written as a "duplicate id" error record)
    is recognised on resume too: the k-th occurrence of an id is done when the file holds k records for it.
    """
    counts: Counter[str] = Counter()
    if path == STDIO or not os.path.exists(path):
        return counts
    try:
        _truncate_partial_line(path)
        with open(path, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    counts[str(json.loads(line)["id"])] += 1
                except (json.JSONDecodeError, KeyError, TypeError):
                    log.warning("%s line %d is not a record of this tool; ignored for resume", path, line_no)
    except OSError as exc:
        raise BatchError(f"cannot read the existing output {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BatchError(f"the existing output {path} is not a UTF-8 JSONL file") from exc
    return counts


def _truncate_partial_line(path: str) -> None:
    """A run killed mid-write can leave a last line without its newline: drop it, it will be redone."""
    with open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        # Walk back to the last newline in blocks, so a large file is not read whole.
        pos, block = size, 1 << 16
        keep = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        log.warning("%s ended in a partial line (%d bytes); cut off before resuming", path, size - keep)
        fh.truncate(keep)


class RecordWriter:
    """Appends JSON records, one line each, one ``os.write`` per record (a kill leaves whole lines only)."""

    def __init__(self, path: str):
        self.path = path
        self._stream: TextIO | None = None
        if path == STDIO:
            sys.stdout.flush()  # anything already buffered must come before our raw writes
            try:
                self._fd, self._owned = sys.stdout.fileno(), False
            except (
                AttributeError,
                OSError,
            ):  # io.UnsupportedOperation: a notebook's stdout has no descriptor
                self._fd, self._owned, self._stream = -1, False, sys.stdout
        else:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise BatchError(f"cannot write {path}: {exc.strerror or exc}") from exc
            self._owned = True

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        if self._stream is not None:
            self._stream.write(line)
            self._stream.flush()
            return
        data = line.encode("utf-8")
        written = os.write(self._fd, data)
        while written < len(data):  # a regular file takes it whole; a pipe may not
            written += os.write(self._fd, data[written:])

    def sync(self) -> None:
        """Make what was written survive a power cut (called once per batch, not per record)."""
        if self._owned:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._owned:
            os.fsync(self._fd)
            os.close(self._fd)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------------
# Runner
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchConfig:
    fmt: str | None = None  # None = by extension
    options: AnalyzeOptions = AnalyzeOptions()
    batch_size: int = 16
    window_factor: int = 8  # rows sorted by length together = window_factor × batch_size
    progress: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise BatchError("batch size must be at least 1")
        if self.window_factor < 1:
            raise BatchError("window factor must be at least 1")


@dataclass
class BatchStats:
    rows_in: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"rows in: {self.rows_in}, ok: {self.ok}, failed: {self.failed}, "
            f"skipped (already done): {self.skipped}, seconds: {self.seconds:.1f}"
        )

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass
class _Item:
    id: str
    text: str | None  # None when the row already failed
    record: Analysis | None = None


def analyze_resilient(
    analyzer: Analyzer, texts: list[str], ids: list[str], options: AnalyzeOptions
) -> list[Analysis]:
    """``analyze_prepared`` for a batch; if a component raises, retry row by row: a bad row fails alone."""
    try:
        return analyzer.analyze_prepared(texts, list(ids), options)
    except Exception as exc:
        log.warning("a batch of %d failed (%s: %s); retrying row by row", len(texts), type(exc).__name__, exc)
    out = []
    for text, id_ in zip(texts, ids, strict=True):
        try:
            out.extend(analyzer.analyze_prepared([text], [id_], options))
        except Exception as exc:
            # The traceback only with -v: a systematic failure would otherwise print one per row.
            verbose = log.isEnabledFor(logging.DEBUG)
            log.error("article %s failed: %s: %s", id_, type(exc).__name__, exc, exc_info=verbose)
            out.append(Analysis(id=id_, error=f"analysis failed: {type(exc).__name__}: {exc}"))
    return out


def run_batch(
    analyzer: Analyzer, input_path: str, output_path: str, config: BatchConfig = BatchConfig()
) -> BatchStats:
    """Analyse every row of ``input_path`` not yet in ``output_path`` and append the records there.

    Raises BatchError for usage / I/O problems (and for models that cannot load); per-row problems become
    error records.
    """
    if input_path != STDIO and output_path != STDIO and _same_file(input_path, output_path):
        raise BatchError("--input and --output are the same file")
    fmt = detect_format(input_path, config.fmt)
    if input_path != STDIO and not os.path.isfile(input_path):
        raise BatchError(f"input file {input_path} does not exist")

    started = time.perf_counter()
    stats = BatchStats()
    already = done_ids(output_path)
    seen: Counter[str] = Counter()
    window_rows = config.batch_size * config.window_factor
    bar = _progress(config, input_path, fmt)
    window: list[_Item] = []
    with RecordWriter(output_path) as writer:
        runner = _WindowRunner(analyzer, config, writer, stats, bar)
        try:
            for row_no, row in read_rows(input_path, fmt):
                stats.rows_in += 1
                id_ = row_id(row, row_no)
                seen[id_] += 1
                if seen[id_] <= already[id_]:
                    stats.skipped += 1
                    bar.update(1)
                    continue
                window.append(_to_item(id_, row, duplicate=seen[id_] > 1))
                if len(window) >= window_rows:
                    runner.run(window)
                    window = []
            runner.run(window)
        finally:
            bar.close()
            stats.seconds = time.perf_counter() - started
    return stats


def _to_item(id_: str, row: dict[str, Any] | BadRow, duplicate: bool) -> _Item:
    if duplicate:
        return _Item(id_, None, Analysis(id=id_, error=DUPLICATE_ID))
    if isinstance(row, BadRow):
        return _Item(id_, None, Analysis(id=id_, error=row.reason))
    try:
        return _Item(id_, row_text(row))
    except ValueError as exc:
        return _Item(id_, None, Analysis(id=id_, error=str(exc)))


class _WindowRunner:
    """Analyses one window at a time in length-sorted batches and writes finished rows in input order."""

    def __init__(
        self, analyzer: Analyzer, config: BatchConfig, writer: RecordWriter, stats: BatchStats, bar: Any
    ):
        self.analyzer, self.config, self.writer, self.stats, self.bar = analyzer, config, writer, stats, bar
        self._warm = False

    def run(self, window: list[_Item]) -> None:
        todo = sorted(
            (i for i, item in enumerate(window) if item.record is None),
            key=lambda i: len(window[i].text or ""),
        )
        written = self._write_ready(window, 0)  # leading error rows need no model
        if todo:
            self._warm_up()
        size = self.config.batch_size
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            texts, ids = [window[i].text or "" for i in chunk], [window[i].id for i in chunk]
            for i, record in zip(
                chunk, analyze_resilient(self.analyzer, texts, ids, self.config.options), strict=True
            ):
                window[i].record = record
            written = self._write_ready(window, written)
            self.writer.sync()
        if written != len(window):  # pragma: no cover - a bug guard: every row of a window gets a record
            raise RuntimeError(f"{len(window) - written} rows of a window were not written")

    def _warm_up(self) -> None:
        # Load the models before the first batch: a checkpoint that cannot load is one clear error, not an
        # error record for every row (and a load attempt per row).
        if self._warm:
            return
        try:
            self.analyzer.warm_up(self.config.options.tasks)
        except Exception as exc:
            raise BatchError(f"cannot load the models: {type(exc).__name__}: {exc}") from exc
        self._warm = True

    def _write_ready(self, window: list[_Item], start: int) -> int:
        pos = start
        while pos < len(window) and (record := window[pos].record) is not None:
            self.writer.write(record.to_dict())
            if record.error:
                self.stats.failed += 1
            else:
                self.stats.ok += 1
            self.bar.update(1)
            pos += 1
        return pos


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def _progress(config: BatchConfig, input_path: str, fmt: str) -> Any:
    from tqdm import tqdm

    total = None
    if config.progress and input_path != STDIO:
        total = (
            parquet_rows(input_path)
            if fmt == "parquet"
            else (_count_lines(input_path) if fmt == "jsonl" else None)
        )
    interactive = sys.stderr.isatty()
    return tqdm(
        total=total,
        unit=" articles",
        file=sys.stderr,
        disable=not config.progress,
        mininterval=0.1 if interactive else 5.0,  # a log file gets a line every few seconds, not a flood
        dynamic_ncols=interactive,
    )


def _count_lines(path: str) -> int | None:
    """Non-blank lines of a JSONL file, for the progress bar's total (cheap next to the models)."""
    try:
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return None


__all__ = [
    "BadRow",
    "BatchConfig",
    "BatchError",
    "BatchStats",
    "RecordWriter",
    "analyze_resilient",
    "detect_format",
    "done_ids",
    "read_rows",
    "row_id",
    "row_text",
    "run_batch",
]
