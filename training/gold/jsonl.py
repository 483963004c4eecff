"""The one reader of the team's JSONL data files (gold labels, abstracts, written and judged summaries): each
non-blank line parsed, numbered as an editor numbers it, a line that is not JSON reported through the caller's
error (which names the file, the line and the field)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Fail = Callable[[Path, int, str, str], Exception]


def _describe(exc: ValueError) -> str:
    return f"not valid JSON: {exc}"


def json_rows(path: Path, fail: Fail, describe: Callable[[ValueError], str] = _describe) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for every non-blank line of ``path``."""
    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as exc:  # JSONDecodeError, and too many digits in one number
                raise fail(path, line_no, "(row)", describe(exc)) from None
            yield line_no, row
