"""Input side of a scaled-out job: which files an input spec names, and each file as a stream of windows.

A window is what the local runner analyses at once: ``batch_size × window_factor`` consecutive rows that still
need a record. The loop in ``read_windows`` is ``run_batch``'s read loop (same readers, ids, row labels and
``RowRules``: the duplicate and resume rules), so a window holds the same rows as the local engine's, and each
row is a ``RowItem``: a text to analyse, or an error record already made (the local engine's own rule).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nlp_service.batch.errors import BatchError, FileFault
from nlp_service.batch.files import STDIO
from nlp_service.batch.readers import EXTENSIONS, check_input, detect_format, read_rows
from nlp_service.batch.rows import RowItem, RowRules, auto_id, numbered_id, row_label


@dataclass(frozen=True)
class InputFile:
    path: str  # absolute: reader tasks run in other processes, maybe on other machines
    label: str  # the path relative to the input spec; names a row in a multi-file input
    fmt: str


@dataclass
class Window:
    items: list[RowItem]
    key: str  # stable name of the window: input file + first row number (a retry writes the same shard)
    skipped: int = 0  # rows before (and in) this window that an earlier run already wrote
    rows_in: int = 0  # rows read for this window, skipped ones included
    fault: BatchError | None = None  # the file stopped the run here (no text field, damaged); raised by the driver


def expand_input(spec: str, fmt: str | None = None) -> list[InputFile]:
    """A file, a folder (every .jsonl/.ndjson/.csv/.parquet under it) or a glob, in sorted order."""
    if spec == STDIO:
        raise BatchError("the Ray engine reads files (its readers run on the cluster), not stdin")
    if os.path.isdir(spec):
        root = Path(spec)
        paths = sorted(str(p) for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
        base = str(root)
    elif any(ch in spec for ch in "*?["):
        paths = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
        base = os.path.commonpath([os.path.dirname(p) or "." for p in paths]) if paths else "."
    elif os.path.isfile(spec):
        paths, base = [spec], os.path.dirname(spec) or "."
    else:
        raise FileFault(f"input {spec} does not exist")
    if not paths:
        raise BatchError(f"input {spec} names no .jsonl, .ndjson, .csv or .parquet file")
    for p in paths:
        check_input(p)  # readable, as the local engine checks its input
    return [InputFile(os.path.abspath(p), os.path.relpath(p, base), detect_format(p, fmt)) for p in paths]


def read_windows(
    source: InputFile,
    window_rows: int,
    already: Counter[str],
    multi_file: bool,
    encoding: str | None = None,
    rename: dict[str, str] | None = None,
) -> Iterator[Window]:
    """The rows of one file as windows of items, skipping the ids ``already`` holds (as ``run_batch`` does);
    ``encoding`` and ``rename`` (the file's column names → ours) are ``read_rows``'s, as the local engine reads.

    In a multi-file input a row without an id is named ``#<relative path>:<row number>`` (row numbers repeat
    between files) and error records name the file before the row. The duplicate rule applies within a file.
    A file that stops the run (``BatchError``: no text field, a damaged Parquet row group) ends in a window that
    carries the error after the rows read before it, as ``run_batch`` finishes those rows before it stops.
    """
    rules = RowRules(already)
    window: list[RowItem] = []
    skipped = rows_in = 0
    first_row = 0
    try:
        for row_no, row in read_rows(source.path, source.fmt, encoding, rename):
            rows_in += 1
            id_, auto = numbered_id(row, row_no)
            if multi_file and auto:
                id_ = auto_id(row_no, source.label)
            where = row_label(source.fmt, row_no)
            item = rules.item(id_, f"{source.label} {where}" if multi_file else where, row)
            if item is None:
                skipped += 1
                continue
            if not window:
                first_row = row_no
            window.append(item)
            if len(window) >= window_rows:
                yield Window(window, window_key(source, first_row), skipped, rows_in)
                window, skipped, rows_in = [], 0, 0
    except BatchError as exc:
        if window or skipped or rows_in:
            yield Window(window, window_key(source, first_row), skipped, rows_in)
        yield Window([], window_key(source, -1), fault=exc)
        return
    if window or skipped or rows_in:
        yield Window(window, window_key(source, first_row), skipped, rows_in)


def window_key(source: InputFile, first_row: int) -> str:
    # A new window never starts on a row an earlier run wrote, so its key never names a finished shard of
    # other rows; a retried window gets the same key and overwrites its own shard.
    digest = hashlib.sha1(source.label.encode("utf-8")).hexdigest()[:10]
    return f"{digest}-{first_row:010d}"
