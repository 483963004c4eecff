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
import gzip
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.batch.errors import BatchError, FileFault, InputFault, OutputLocked, Terminated
from nlp_service.batch.files import check_encoding, is_gzip, open_text
from nlp_service.batch.outputs import STDIO, RecordWriter, done_ids, escape_id, record_tasks
from nlp_service.records import Analysis

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
TEXT_FIELDS = ("text", "title", "body")

NO_TEXT = "row has no text (expected 'text' or 'title'+'body')"
DUPLICATE_ID = "duplicate id"
SAME_ID_RULE = 'ids compare as text, so 7, "7" and 7.0 are one id'
# A JSONL file whose first rows have none of TEXT_FIELDS has a wrong field name throughout (like a CSV header
# without those columns): the run stops before writing rather than writing an error record per row.
FIELD_CHECK_ROWS = 100


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
    suffix = Path(path[: -len(".gz")] if is_gzip(path) else path).suffix.lower()
    if suffix not in _EXTENSIONS or (is_gzip(path) and suffix == ".parquet"):
        raise BatchError(
            f"cannot tell the format of {path!r} from its extension (.jsonl, .csv, .parquet, or .jsonl.gz / "
            f".csv.gz); pass --format {'|'.join(FORMATS)}"
        )
    return _EXTENSIONS[suffix]


def check_input(path: str) -> None:
    """The input is a readable file (FileFault says what it is instead)."""
    if path == STDIO:
        return
    if not os.path.exists(path):
        raise FileFault(f"input file {path} does not exist")
    if os.path.isdir(path):
        raise FileFault(f"the input {path} is a folder; pass a file")
    if not os.access(path, os.R_OK):
        raise FileFault(f"cannot read {path}: permission denied")


def row_label(fmt: str, row_no: int) -> str:
    """How an error record names its row: JSONL counts lines (as an editor does), CSV and Parquet data rows."""
    return f"line {row_no}" if fmt == "jsonl" else f"row {row_no}"


MAP_COLUMNS_HINT = "name yours with --text-field, --title-field, --body-field (and --id-field)"


def renamed(row: dict[str, Any] | BadRow, rename: dict[str, str] | None) -> dict[str, Any] | BadRow:
    """``row`` with its fields named as the service names them (``rename``: the file's name → ours)."""
    if not rename or isinstance(row, BadRow):
        return row
    out = {k: v for k, v in row.items() if k not in rename.values()}  # a mapped column replaces ours
    return out | {rename[k]: v for k, v in row.items() if k in rename}


def read_rows(
    path: str, fmt: str, encoding: str | None = None, rename: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Rows of the input, numbered from 1 (JSONL: line number; CSV and Parquet: data row number); JSONL and CSV
    decoded as ``input_text.open_text`` says (``encoding=None``: detected; ``.gz``: decompressed). ``rename``
    maps the file's column names onto ``id``, ``text``, ``title``, ``body`` (``--text-field headline`` …).

    Raises BatchError when the file has no text field at all or is not in the encoding, FileFault when it cannot
    be read on."""
    if fmt == "parquet":
        if path == STDIO:
            raise BatchError("Parquet cannot be read from stdin; pass a file")
        yield from read_parquet(path, rename=rename)
        return
    if fmt not in ("jsonl", "csv"):
        raise BatchError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")

    def reader(fh: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        if fmt == "csv":
            return read_csv(fh, rename)
        return ((n, renamed(row, rename)) for n, row in read_jsonl(fh))
    try:
        with open_text(path, fmt, encoding) as fh:
            rows = reader(fh)
            yield from (_check_jsonl_fields(rows, "stdin" if path == STDIO else path) if fmt == "jsonl" else rows)
    except OSError as exc:
        raise InputFault(f"cannot read {path} on: {exc.strerror or exc}") from exc


# strict=False: a raw control character (a tab, a carriage return from a Windows tool) inside a string is read
# as itself rather than failing the row; cleaning removes or normalises it like any other.
_LENIENT_JSON = json.JSONDecoder(strict=False)


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """One JSON object per line; blank lines are skipped but counted, so numbers match an editor's."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = _LENIENT_JSON.decode(line)
        except Exception as exc:  # whatever one line holds, it must not stop the run
            yield line_no, BadRow(_unparsable(exc))
            continue
        yield line_no, row if isinstance(row, dict) else BadRow("not a JSON object")


def _unparsable(exc: Exception) -> str:
    """Why ``json.loads`` refused a line, in the user's terms (not Python's advice on how to raise a limit)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "not valid JSON: nested too deeply"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        # Python refuses to read integers longer than sys.get_int_max_str_digits() (4,300): a denial-of-service guard.
        return f"not valid JSON here: a number has more than {sys.get_int_max_str_digits()} digits"
    return f"cannot be read as JSON ({type(exc).__name__}: {exc})"


def _check_jsonl_fields(
    rows: Iterator[tuple[int, dict[str, Any] | BadRow]], name: str
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Stop before anything is written when none of the first objects has a text field (a wrong field name)."""
    head: list[tuple[int, dict[str, Any] | BadRow]] = []
    for item in rows:
        head.append(item)
        if len(head) >= FIELD_CHECK_ROWS:
            break
    objects = [row for _, row in head if isinstance(row, dict)]
    if objects and not any(set(TEXT_FIELDS) & row.keys() for row in objects):
        found = sorted({str(k) for row in objects for k in row})
        raise BatchError(
            f"no row of the first {len(head)} in {name} has a 'text', 'title' or 'body' field "
            f"(found: {', '.join(found[:10]) or 'none'}); nothing was analysed"
        )
    yield from head
    yield from rows


class _LineCounter:
    """Iterates a text file's lines and counts them, so a CSV error can name the physical lines it spans; keeps
    the lines of the row being parsed, so that the lines an unclosed quote swallowed can be read again."""

    def __init__(self, fh: Iterable[str], before: int = 0):
        self._it, self.lines = iter(fh), before
        self.row_lines: list[str] = []
        self.exhausted = False

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._it)
        except StopIteration:
            self.exhausted = True
            raise
        self.lines += 1
        self.row_lines.append(line)
        return line


def read_csv(
    fh: Iterable[str], rename: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """CSV with a header row; every cell is a string, empty cells count as missing.

    Parsed strictly: a quote left open makes the parser read on into the next rows; strict mode stops at the
    next quote that does not fit, and the error record names the lines that were read as one row. A quote that
    is never closed reads on to the end of the file: its row is an error record that names the line where it
    opened, and the lines after that one are read again as rows of their own, so none is lost."""
    # The default cell limit (128 KiB) is below a long article; the limit is process-wide, raising it is safe.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    lines = _LineCounter(fh)
    reader = csv.DictReader(lines, strict=True)
    try:
        header = reader.fieldnames
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read the CSV header: {exc}") from exc
    if not header:
        raise BatchError("the CSV file is empty: a header row is required")
    if rename:
        header = reader.fieldnames = [rename.get(h, h) for h in header]
    if not (set(TEXT_FIELDS) & set(header)):
        raise BatchError(
            f"the CSV header has no 'text', 'title' or 'body' column (found: {', '.join(header)}); "
            f"{MAP_COLUMNS_HINT}"
        )
    row_no = 0
    while True:
        first_line = lines.lines + 1
        lines.row_lines = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_no += 1
            if lines.exhausted and len(lines.row_lines) > 1:
                rest = f"lines {first_line + 1}-{lines.lines} after it were"
                after = f"line {lines.lines} after it was" if lines.lines == first_line + 1 else rest
                yield row_no, BadRow(
                    f"row is not valid CSV: the quote opened on line {first_line} is never closed ({exc}); "
                    f"{after} read again as rows"
                )
                lines = _LineCounter(lines.row_lines[1:], before=first_line)
                reader = csv.DictReader(lines, fieldnames=header, strict=True)
                continue
            span = f"line {first_line}" if lines.lines <= first_line else f"lines {first_line}-{lines.lines}"
            yield row_no, BadRow(
                f"row is not valid CSV ({exc}); {span} of the file were read as this one row, "
                "probably because of a quote that is not closed"
            )
            continue
        row_no += 1
        extra = row.get(None)  # type: ignore[call-overload]
        if extra:
            yield row_no, BadRow(
                f"row has {len(header) + len(extra)} cells, the header {len(header)} "
                "(a comma in a cell that is not quoted?)",
                id=row.get("id") or None,
            )
            continue
        yield row_no, {k: (v if v != "" else None) for k, v in row.items() if k is not None}


def read_parquet(
    path: str, batch_rows: int = 1024, rename: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Parquet, read one record batch at a time so a large file never sits in memory whole."""
    import pyarrow.parquet as pq  # imported here: only Parquet users pay for pyarrow

    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a non-Parquet file
        raise FileFault(f"cannot read {path} as Parquet: {exc}") from exc
    if not (set(TEXT_FIELDS) & {(rename or {}).get(n, n) for n in names}):
        raise BatchError(
            f"the Parquet file {path} has no 'text', 'title' or 'body' column (found: {', '.join(names)}); "
            f"{MAP_COLUMNS_HINT}"
        )
    row_no = 0
    # Row group by row group: a damaged group then stops the run after every row of the groups before it.
    batches = (
        batch for group in range(pf.num_row_groups) for batch in pf.iter_batches(batch_rows, row_groups=[group])
    )
    while True:
        try:
            record_batch = next(batches)
            rows = record_batch.to_pylist()
        except StopIteration:
            return
        except (OSError, ValueError) as exc:  # a corrupt row group: the rows before it are done
            raise InputFault(
                f"cannot read {path} after row {row_no}: the file is damaged ({exc}); "
                f"the {row_no} rows before were read"
            ) from exc
        for row in rows:
            row_no += 1
            yield row_no, renamed(row, rename)


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
    """The row's ``id`` as text; a row without one (or with one that is not text or a number) gets its row
    number, so reruns give it the same id.

    Ids compare as text: 7, "7" and 7.0 (pandas writes integer ids with gaps as floats) are all "7", and a
    second row with that id is a "duplicate id" error record."""
    value = row.id if isinstance(row, BadRow) else row.get("id")
    if value is None or value == "" or id_problem(value):
        return str(row_no)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return escape_id(str(value))


def id_problem(value: object) -> str | None:
    """Why an id cannot be used, or None."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"id must be a string or a number, got {_type_name(value)}"
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return f"id must be a finite number, got {value}"
    return None


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", bool: "boolean"}.get(type(value), type(value).__name__)


def row_text(row: dict[str, Any]) -> str:
    """``text``, else ``title`` + newline + ``body``; ValueError says why a row has no usable text."""
    text = row.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        return text
    parts = [row.get("title"), row.get("body")]
    if all(p is None for p in parts):
        found = ", ".join(sorted(str(k) for k in row if row[k] is not None))
        other_fields = set(row) - {"id", *TEXT_FIELDS}
        raise ValueError(f"{NO_TEXT}; it has: {found}" if other_fields else NO_TEXT)
    for name, part in zip(("title", "body"), parts, strict=True):
        if part is not None and not isinstance(part, str):
            raise ValueError(f"{name} must be a string, got {type(part).__name__}")
    return "\n".join(p for p in parts if p)


# ----------------------------------------------------------------------------------------------------
# Runner
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchConfig:
    fmt: str | None = None  # None = by extension
    encoding: str | None = None  # None = detected (input_text.sniff_encoding)
    options: AnalyzeOptions = AnalyzeOptions()
    batch_size: int = 16
    window_factor: int = 8  # rows sorted by length together = window_factor × batch_size
    progress: bool = True
    rename: dict[str, str] | None = None  # input column → id / text / title / body (--text-field …)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise BatchError("batch size must be at least 1")
        if self.window_factor < 1:
            raise BatchError("window factor must be at least 1")
        check_encoding(self.encoding)


@dataclass
class BatchStats:
    rows_in: int = 0
    ok: int = 0
    failed: int = 0  # error records written by this run
    skipped: int = 0
    failed_before: int = 0  # error records earlier runs left in the output
    seconds: float = 0.0

    def line(self) -> str:
        failed = f"{self.failed_total}"
        if self.failed_before:
            failed += f" ({self.failed_before} from an earlier run)"
        return (
            f"rows in: {self.rows_in}, ok: {self.ok}, failed: {failed}, "
            f"skipped (already done): {self.skipped}, seconds: {self.seconds:.1f}"
        )

    @property
    def failed_total(self) -> int:
        """Error records in the output file after this run, whichever run wrote them."""
        return self.failed + self.failed_before

    @property
    def exit_code(self) -> int:
        return 1 if self.failed_total else 0


@dataclass
class _Item:
    id: str
    where: str  # "line 3" / "row 3": error records name their row
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

    Raises BatchError (exit 2) for usage problems and models that cannot load, FileFault (3) for a file that
    cannot be read or written, OutputLocked (4) when another run writes to the output; per-row problems become
    error records. On KeyboardInterrupt / Terminated the records written so far are whole lines.
    """
    if input_path != STDIO and output_path != STDIO and _same_file(input_path, output_path):
        raise BatchError("--input and --output are the same file")
    check_input(input_path)
    fmt = detect_format(input_path, config.fmt)

    started = time.perf_counter()
    stats = BatchStats()
    with RecordWriter(output_path) as writer:  # locks the output before reading what earlier runs wrote
        previous = writer.previous()
        check_resume_tasks(output_path, previous.tasks, config.options.tasks)
        stats.failed_before = previous.failed
        rules = RowRules(previous.counts)
        window_rows = config.batch_size * config.window_factor
        bar = _progress(config, input_path, fmt)
        window: list[_Item] = []
        runner = _WindowRunner(analyzer, config, writer, stats, bar)
        try:
            try:
                for row_no, row in read_rows(input_path, fmt, config.encoding, config.rename):
                    stats.rows_in += 1
                    item = rules.checked_item(row, row_no, fmt)
                    if item is None:
                        stats.skipped += 1
                        bar.update(1)
                        continue
                    window.append(item)
                    if len(window) >= window_rows:
                        runner.run(window)
                        window = []
            except InputFault:
                runner.run(window)  # the rows read before the input failed are done: a resume starts after them
                raise
            runner.run(window)
        except (KeyboardInterrupt, Terminated) as exc:
            exc.written = writer.written  # type: ignore[attr-defined]  # for the resume hint
            raise
        finally:
            bar.close()
            stats.seconds = time.perf_counter() - started
    return stats


class RowRules:
    """The resume and duplicate-id rules over one input's rows, shared by every engine: the k-th row with an id
    is done when the output holds k records for that id already; a row whose given id came before is a
    "duplicate id" error record that names the first row.

    A row without an id takes its row number (``auto``); that number is no one's given id, so a later row whose
    given id is the same number is not its duplicate (both are analysed). The resume count is by id text,
    which stays right for both because records are written in input order."""

    def __init__(self, already: Counter[str]):
        self.already = already
        self.count: Counter[str] = Counter()  # rows per id text, for resume
        self.seen: Counter[tuple[bool, str]] = Counter()  # rows per (auto, id), for the duplicate rule
        self.first_seen: dict[tuple[bool, str], str] = {}

    def checked_item(self, row: dict[str, Any] | BadRow, row_no: int, fmt: str) -> _Item | None:
        """``item`` for a row as a reader gave it; a row that breaks the id or text rules in a way nobody
        foresaw is an error record too, never the end of the run."""
        where = row_label(fmt, row_no)
        try:
            id_ = row_id(row, row_no)
            auto = id_ == str(row_no) and row_id(row, row_no + 1) != id_  # the id came from row_no
        except Exception as exc:  # one row's odd value must not stop the batch
            id_, auto, row = str(row_no), True, BadRow(f"the id cannot be used ({type(exc).__name__}: {exc})")
        return self.item(id_, where, row, auto)

    def item(self, id_: str, where: str, row: dict[str, Any] | BadRow, auto: bool = False) -> _Item | None:
        """The row to analyse (or its error record), or None when an earlier run wrote its record."""
        key = (auto, id_)
        self.count[id_] += 1
        self.seen[key] += 1
        self.first_seen.setdefault(key, where)
        if self.count[id_] <= self.already[id_]:
            return None
        duplicate_of = self.first_seen[key] if self.seen[key] > 1 else None
        try:
            return _to_item(id_, where, row, duplicate_of)
        except Exception as exc:  # one row's odd value must not stop the batch
            return _to_item(id_, where, BadRow(f"cannot be read ({type(exc).__name__}: {exc})"), duplicate_of)


def check_resume_tasks(output_path: str, found: set[frozenset[str]], tasks: tuple[str, ...]) -> None:
    """Records are never rewritten in place, so a resume must make the same fields as the run it continues."""
    other = {t for t in found if t != frozenset(tasks)}
    if other:
        made = " and ".join(sorted(",".join(sorted(t)) for t in other))
        raise BatchError(
            f"{output_path} holds records made with --tasks {made}, and this run asks for "
            f"--tasks {','.join(tasks)}; rerun with the same --tasks to finish that run, or pass a new --output"
        )


def _to_item(id_: str, where: str, row: dict[str, Any] | BadRow, duplicate_of: str | None) -> _Item:
    def failed(reason: str) -> _Item:
        return _Item(id_, where, None, Analysis(id=id_, error=f"{where}: {reason}"))

    if duplicate_of is not None:
        return failed(f"{DUPLICATE_ID} (the same as {duplicate_of}; {SAME_ID_RULE})")
    if isinstance(row, BadRow):
        return failed(row.reason)
    problem = id_problem(row.get("id"))
    if problem:
        return failed(problem)
    try:
        return _Item(id_, where, row_text(row))
    except ValueError as exc:
        return failed(str(exc))


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
                if record.error:
                    record = replace(record, error=f"{window[i].where}: {record.error}")
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
        _restart_clock(self.bar)

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


def _restart_clock(bar: Any) -> None:
    """Start the progress bar's rate and ETA after the models loaded: loading is not analysis speed."""
    if getattr(bar, "disable", True):
        return
    done = bar.n
    bar.reset(total=bar.total)  # n = 0 and the clock restarts now
    bar.initial = done  # rows counted before (skipped, early errors) do not count towards the rate
    bar.n = done
    bar.refresh()


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
        with gzip.open(path, "rb") if is_gzip(path) else open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except (OSError, EOFError):  # a damaged .gz: the reader says so
        return None


__all__ = [
    "BadRow",
    "BatchConfig",
    "BatchError",
    "BatchStats",
    "FileFault",
    "OutputLocked",
    "RecordWriter",
    "RowRules",
    "Terminated",
    "analyze_resilient",
    "check_resume_tasks",
    "detect_format",
    "done_ids",
    "read_rows",
    "record_tasks",
    "row_id",
    "row_text",
    "run_batch",
]
