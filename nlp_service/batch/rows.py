"""A read row → the item the runner analyses: its id, its text, or the error record it already is.

``RowRules`` holds the rules every consumer of rows shares (the batch runner, the Ray engine's windows, the web
page's jobs): which rows an earlier run already wrote (resume), and which repeat an id (duplicate).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from nlp_service.batch.outputs import escape_id, unescape_id
from nlp_service.batch.readers import TEXT_FIELDS, BadRow
from nlp_service.records import Analysis

NO_TEXT = "row has no text (expected 'text' or 'title'+'body')"
DUPLICATE_ID = "duplicate id"
SAME_ID_RULE = 'ids compare as text, so 7, "7" and 7.0 are one id'


def row_label(fmt: str, row_no: int) -> str:
    """How an error record names its row: JSONL counts lines (as an editor does), CSV and Parquet data rows."""
    return f"line {row_no}" if fmt == "jsonl" else f"row {row_no}"


# A row without a usable id is named by its row number with this mark (``#3``), and a given id that starts with
# the mark gets one more (``#7`` → ``##7``): no given id can then look like a row number, and both are reversible
# (``input_id``).
AUTO_ID_MARK = "#"


def auto_id(row_no: int, file_label: str = "") -> str:
    """The id of a row that gave none: ``#3``, or ``#part-2.jsonl:3`` in a multi-file input."""
    return f"{AUTO_ID_MARK}{file_label}:{row_no}" if file_label else f"{AUTO_ID_MARK}{row_no}"


def row_id(row: dict[str, Any] | BadRow, row_no: int) -> str:
    """The row's ``id`` as text; a row without one (or with one that is not text or a number) gets its row
    number (``#3``), so reruns give it the same id and no given id equals it.

    Ids compare as text: 7, "7" and 7.0 (pandas writes integer ids with gaps as floats) are all "7", and a
    second row with that id is a "duplicate id" error record."""
    return numbered_id(row, row_no)[0]


def numbered_id(row: dict[str, Any] | BadRow, row_no: int) -> tuple[str, bool]:
    """``row_id`` and whether it came from the row number (``auto``: the row gave no usable id)."""
    value = row.id if isinstance(row, BadRow) else row.get("id")
    if value is None or value == "" or id_problem(value):
        return auto_id(row_no), True
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = escape_id(str(value))
    return (AUTO_ID_MARK + text if text.startswith(AUTO_ID_MARK) else text), False


def input_id(record_id: str) -> str | None:
    """The id as the input row gave it (the inverse of ``row_id``), or None for a row that gave none."""
    if not record_id.startswith(AUTO_ID_MARK):
        return unescape_id(record_id)
    if record_id.startswith(AUTO_ID_MARK * 2):
        return unescape_id(record_id[1:])
    return None


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


@dataclass
class RowItem:
    """One input row on its way to a record: a text to analyse, or (``record`` set already) its error record."""

    id: str
    where: str  # "line 3" / "row 3": error records name their row
    text: str | None  # None when the row already failed
    record: Analysis | None = None


class RowRules:
    """The resume and duplicate-id rules over one input's rows, shared by every engine: the k-th row with an id
    is done when the output holds k records for that id already; a row whose given id came before is a
    "duplicate id" error record that names the first row.

    A row without an id takes its row number (``#3``), which no given id can equal (``row_id``). The resume
    count is by id text."""

    def __init__(self, already: Counter[str]):
        self.already = already
        self.count: Counter[str] = Counter()  # rows per id text, for resume
        self.seen: Counter[str] = Counter()  # rows per id, for the duplicate rule
        self.first_seen: dict[str, str] = {}

    def checked_item(self, row: dict[str, Any] | BadRow, row_no: int, fmt: str) -> RowItem | None:
        """``item`` for a row as a reader gave it; a row that breaks the id or text rules in a way nobody
        foresaw is an error record too, never the end of the run."""
        where = row_label(fmt, row_no)
        try:
            id_ = row_id(row, row_no)
        except Exception as exc:  # one row's odd value must not stop the batch
            id_, row = auto_id(row_no), BadRow(f"the id cannot be used ({type(exc).__name__}: {exc})")
        return self.item(id_, where, row)

    def item(self, id_: str, where: str, row: dict[str, Any] | BadRow) -> RowItem | None:
        """The row to analyse (or its error record), or None when an earlier run wrote its record."""
        self.count[id_] += 1
        self.seen[id_] += 1
        self.first_seen.setdefault(id_, where)
        if self.count[id_] <= self.already[id_]:
            return None
        duplicate_of = self.first_seen[id_] if self.seen[id_] > 1 else None
        try:
            return _to_item(id_, where, row, duplicate_of)
        except Exception as exc:  # one row's odd value must not stop the batch
            return _to_item(id_, where, BadRow(f"cannot be read ({type(exc).__name__}: {exc})"), duplicate_of)


def _to_item(id_: str, where: str, row: dict[str, Any] | BadRow, duplicate_of: str | None) -> RowItem:
    def failed(reason: str) -> RowItem:
        return RowItem(id_, where, None, Analysis(id=id_, error=f"{where}: {reason}"))

    if duplicate_of is not None:
        return failed(f"{DUPLICATE_ID} (the same as {duplicate_of}; {SAME_ID_RULE})")
    if isinstance(row, BadRow):
        return failed(row.reason)
    problem = id_problem(row.get("id"))
    if problem:
        return failed(problem)
    try:
        return RowItem(id_, where, row_text(row))
    except ValueError as exc:
        return failed(str(exc))
