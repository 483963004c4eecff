"""Batch output as CSV or Parquet, chosen by the output's suffix.

The batch runner writes JSONL, which is what makes a run resumable (whole lines, appended, ids counted). For a
``.csv`` or ``.parquet`` output it writes ``<output>.partial.jsonl`` instead and, once every row is done,
converts it into the output and removes it; an interrupted run leaves the partial file, and the same command
resumes from it.

Parquet keeps the records whole (``parquet_records``: one fixed schema, lists of structs). CSV has one
flat row per record: each list of tags becomes ``<list>`` (names, or country codes, joined by ``;``) and
``<list>_scores`` (their scores, in the same order); warnings are joined by ``;`` too.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from nlp_service.batch.files import STDIO

EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet"}
PARTIAL_SUFFIX = ".partial.jsonl"
CSV_COLUMNS = (
    "id", "countries", "countries_scores", "regions", "regions_scores", "themes", "themes_scores", "entities",
    "summary", "summary_method", "faithful", "warnings", "error",
)
JOIN = ";"


def export_format(output: str) -> str | None:
    """"csv" or "parquet" for an output path with that suffix; None for JSONL (or stdout)."""
    return EXPORT_FORMATS.get(Path(output).suffix.lower()) if output != STDIO else None


def partial_path(output: str) -> str:
    return output + PARTIAL_SUFFIX


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {k: record.get(k) for k in ("id", "summary", "summary_method", "faithful", "error")}
    for field in ("countries", "regions", "themes"):
        tags = record.get(field)
        if tags is not None:
            key = "code" if field == "countries" else "name"
            row[field] = JOIN.join(t[key] for t in tags)
            row[f"{field}_scores"] = JOIN.join(f"{t['score']:g}" for t in tags)
    if record.get("entities") is not None:
        row["entities"] = JOIN.join(f"{e['text']} ({e['type']})" for e in record["entities"])
    row["warnings"] = JOIN.join(record.get("warnings") or [])
    return row


def _records(jsonl: str) -> list[dict[str, Any]]:
    with open(jsonl, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def export_records(jsonl: str, output: str, fmt: str) -> None:
    """Write the records of ``jsonl`` to ``output`` as ``fmt`` (atomically: a temporary sibling, renamed)."""
    records = _records(jsonl)
    tmp = f"{output}.tmp"
    if fmt == "parquet":
        import pyarrow.parquet as pq  # lazy: pyarrow is heavy; only Parquet outputs pay for it

        from nlp_service.batch.parquet_records import records_to_table  # lazy: imports pyarrow

        pq.write_table(records_to_table(records), tmp)
    else:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(csv_row(r) for r in records)
    os.replace(tmp, output)
