"""Team-made faithfulness data (``training/data/faithfulness/``): written pairs and judgements, read and checked.

``written.jsonl``: a writer's faithful paraphrase or one-error hard negative of an article
(docs/faithfulness-guideline.md, "Writing pairs")::

    {"key": "bbc:sport/042", "summary": "…", "faithful": false, "type": "role_swap",
     "span": "Lakeside beat Northfield", "writer": "w2", "kind": "negative"}

``judged.jsonl``: a judge's verdict on a summary of an article, whoever or whatever wrote it::

    {"key": "…", "summary": "…", "summary_sha1": "…", "faithful": false, "type": "number", "span": "4-1",
     "fluent": true, "covers": true, "judge": "j3", "note": ""}

``summary_sha1`` (of the text with its white space folded, ``text_sha1``) names the summary; ``summary`` is
``null`` where any sentence of it is copied from the article (leads, extracts): the publishers' words are not
stored, and a judged copy is still found by its hash.

A bad file stops with :class:`FaithDataError`, whose message names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from training.gold.jsonl import json_rows
from training.gold.sources import SOURCES

FAITH_DIR = Path(__file__).resolve().parents[1] / "data" / "faithfulness"
ERROR_TYPES: tuple[str, ...] = (
    "entity", "number", "predicate", "role_swap", "negation", "added", "plan_as_fact", "other",
)
WRITTEN_KINDS: tuple[str, ...] = ("paraphrase", "negative", "paraphrase_second", "negative_second")


class FaithDataError(ValueError):
    """A faithfulness data file that cannot be used; the message names file, line and field."""


def _fail(path: Path, line: int, field: str, message: str) -> FaithDataError:
    return FaithDataError(f"{path}:{line}: field {field!r}: {message}")


def text_sha1(text: str) -> str:
    """The name of a summary in judged.jsonl: SHA-1 of its text with white space folded."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


def _check_common(row: Any, path: Path, line: int, fields: set[str], person: str) -> None:
    if not isinstance(row, dict):
        raise _fail(path, line, "(row)", f"expected a JSON object, got {type(row).__name__}")
    missing = sorted(fields - row.keys())
    if missing:
        raise _fail(path, line, missing[0], "missing")
    unknown = sorted(row.keys() - fields)
    if unknown:
        raise _fail(path, line, unknown[0], f"unknown field (expected {', '.join(sorted(fields))})")
    key = row["key"]
    if not isinstance(key, str) or key.partition(":")[0] not in SOURCES or not key.partition(":")[2]:
        raise _fail(path, line, "key", f"expected 'source:id' with source one of {', '.join(SOURCES)}")
    optional_text = "summary_sha1" in fields
    if not (isinstance(row["summary"], str) and row["summary"].strip()) and not (
            optional_text and row["summary"] is None):
        raise _fail(path, line, "summary", "expected a non-empty string")
    if not isinstance(row["faithful"], bool):
        raise _fail(path, line, "faithful", "expected true or false")
    if not isinstance(row[person], str) or not row[person]:
        raise _fail(path, line, person, "expected a name")
    if row["faithful"]:
        if row["type"] is not None or row["span"] is not None:
            raise _fail(path, line, "type", "a faithful summary has no error type or span (null)")
        return
    if row["type"] not in ERROR_TYPES:
        raise _fail(path, line, "type", f"expected one of {', '.join(ERROR_TYPES)}")
    span = row["span"]
    if row["summary"] is None:
        return  # the text is not stored, so the span cannot be checked against it
    if not isinstance(span, str) or not span.strip() or " ".join(span.split()) not in " ".join(row["summary"].split()):
        raise _fail(path, line, "span", "expected the exact words of the summary that carry the error")


def _read(path: str | Path, check) -> list[dict[str, Any]]:
    path = Path(path)
    out = []
    for line_no, row in json_rows(path, _fail):
        check(row, path, line_no)
        out.append(row)
    return out


def _check_written(row: Any, path: Path, line: int) -> None:
    _check_common(row, path, line, {"key", "summary", "faithful", "type", "span", "writer", "kind"}, "writer")
    if row["kind"] not in WRITTEN_KINDS:
        raise _fail(path, line, "kind", f"expected one of {', '.join(WRITTEN_KINDS)}")
    if row["faithful"] != row["kind"].startswith("paraphrase"):
        raise _fail(path, line, "faithful", "a paraphrase is faithful and a negative is not")


def _check_judged(row: Any, path: Path, line: int) -> None:
    fields = {"key", "summary", "summary_sha1", "faithful", "type", "span", "fluent", "covers", "judge", "note"}
    _check_common(row, path, line, fields, "judge")
    if not isinstance(row["summary_sha1"], str) or len(row["summary_sha1"]) != 40:
        raise _fail(path, line, "summary_sha1", "expected the SHA-1 of the summary (40 hex digits)")
    if row["summary"] is not None and text_sha1(row["summary"]) != row["summary_sha1"]:
        raise _fail(path, line, "summary_sha1", "does not match the summary")
    for name in ("fluent", "covers"):
        if not isinstance(row[name], bool):
            raise _fail(path, line, name, "expected true or false")


def read_written(path: str | Path = FAITH_DIR / "written.jsonl") -> list[dict[str, Any]]:
    return _read(path, _check_written)


def read_judged(path: str | Path = FAITH_DIR / "judged.jsonl") -> list[dict[str, Any]]:
    return _read(path, _check_judged)
