"""Input readers for the batch script: JSONL, CSV and Parquet rows in, ``(row_no, row_dict | BadRow)`` out.

A line or row that cannot be parsed becomes a ``BadRow`` (and so an error record), never an exception; a file
that cannot be used at all (no text field, not in its encoding, unreadable) raises ``BatchError`` / ``FileFault``
before anything is written. How bytes become text lines (encodings, gzip) is ``files.py``'s job.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_service.batch.errors import BatchError, FileFault, InputFault
from nlp_service.batch.files import STDIO, is_gzip, open_text

FORMATS = ("jsonl", "csv", "parquet")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
TEXT_FIELDS = ("text", "title", "body")

# A JSONL file whose first rows have none of TEXT_FIELDS has a wrong field name throughout (like a CSV header
# without those columns): the run stops before writing rather than writing an error record per row.
FIELD_CHECK_ROWS = 100
MAP_COLUMNS_HINT = "name yours with --text-field, --title-field, --body-field (and --id-field)"


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
    if suffix not in EXTENSIONS or (is_gzip(path) and suffix == ".parquet"):
        raise BatchError(
            f"cannot tell the format of {path!r} from its extension (.jsonl, .csv, .parquet, or .jsonl.gz / "
            f".csv.gz); pass --format {'|'.join(FORMATS)}"
        )
    return EXTENSIONS[suffix]


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
    decoded as ``files.open_text`` says (``encoding=None``: detected; ``.gz``: decompressed). ``rename``
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
            yield from (check_jsonl_fields(rows, "stdin" if path == STDIO else path) if fmt == "jsonl" else rows)
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


def check_jsonl_fields(
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
    import pyarrow.parquet as pq  # lazy: pyarrow is heavy; only Parquet inputs pay for it

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
    """The row count a Parquet file's footer gives (None if it cannot be read), for the progress bar's total."""
    try:
        import pyarrow.parquet as pq  # lazy: pyarrow is heavy; only Parquet inputs pay for it

        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # a damaged file: the reader says so
        return None

