"""``nlp-service verify``: a JSONL file of (article, summary) rows in, one Verification record per row out.

Rows: ``id`` (else the row number, ``#3``), ``text`` (or ``title`` + ``body``) and ``summary``. A row that cannot be
checked (no text, no summary, not JSON) gives a record with ``error``; the others go on. Records follow
``nlp_service/data/verify.schema.json``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from nlp_service.batch.files import STDIO, open_text
from nlp_service.batch.outputs import record_bytes
from nlp_service.batch.readers import BadRow, read_jsonl
from nlp_service.batch.rows import row_id, row_label, row_text
from nlp_service.records import Verification


@dataclass
class VerifyStats:
    rows: int = 0
    errors: int = 0
    unfaithful: int = 0

    def line(self) -> str:
        return f"{self.rows} rows checked: {self.rows - self.errors - self.unfaithful} faithful, " \
               f"{self.unfaithful} not, {self.errors} errors"


def _rows(stream: IO[str]) -> Iterator[tuple[str, Any, Any, str | None]]:
    """(id, text, summary, error) per line, read as ``nlp-service batch`` reads its JSONL (the same ids, text
    fields and messages)."""
    for number, row in read_jsonl(stream):
        ident = row_id(row, number)
        if isinstance(row, BadRow):
            yield ident, None, None, f"{row_label('jsonl', number)}: {row.reason}"
            continue
        try:
            text = row_text(row)
        except ValueError as exc:
            yield ident, None, None, str(exc)
            continue
        if row.get("summary") is None:
            yield ident, None, None, "row has no 'summary'"
        else:
            yield ident, text, row["summary"], None


def run_verify(
    analyzer: Any, input_path: str, output_path: str, batch_size: int = 32, encoding: str | None = None
) -> VerifyStats:
    """Check every row of ``input_path`` (``-``: stdin) and write one record per row to ``output_path``. The
    input is read as ``nlp-service batch`` reads JSONL (decoding, line splitting); FileFault if it cannot be."""
    stats = VerifyStats()
    with open_text(input_path, "jsonl", encoding) as src, contextlib.ExitStack() as closing:
        dst = sys.stdout if output_path == STDIO else closing.enter_context(open(output_path, "w", encoding="utf-8"))
        batch: list[tuple[str, Any, Any, str | None]] = []
        for row in _rows(src):
            batch.append(row)
            if len(batch) >= batch_size:
                _flush(analyzer, batch, dst, stats)
        _flush(analyzer, batch, dst, stats)
    return stats


def _flush(analyzer: Any, batch: list[tuple[str, Any, Any, str | None]], dst: IO[str], stats: VerifyStats) -> None:
    ok = [r for r in batch if r[3] is None]
    verdicts = iter(analyzer.verify_prepared([r[1] for r in ok], [r[2] for r in ok], [r[0] for r in ok]))
    for ident, _, _, error in batch:
        record = next(verdicts) if error is None else Verification(False, 0.0, [], id=ident, error=error)
        stats.rows += 1
        stats.errors += record.error is not None
        stats.unfaithful += record.error is None and not record.faithful
        dst.write(record_bytes(record.to_dict()).decode("utf-8"))  # the batch writer's line: one per record
    batch.clear()
