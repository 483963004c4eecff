"""Output side of a scaled-out job: a JSONL file (as the local engine writes) or a folder of shards.

A folder holds one shard per window, ``part-<window key>.jsonl`` or ``.parquet``, written under a temporary
name and renamed when complete, so a shard is whole or absent. Resume is id-level: the ids in the finished
shards are skipped, exactly as the local engine skips the ids in its file.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_service.batch.errors import BatchError, FileFault
from nlp_service.batch.files import STDIO
from nlp_service.batch.outputs import Previous, record_bytes, record_tasks, scan_output

SHARD_FORMATS = ("jsonl", "parquet")
_FILE_SUFFIXES = (".jsonl", ".ndjson")
_TMP_PREFIX = ".tmp-"
_OWNER = ".job"  # the id of the job that writes the folder now


@dataclass(frozen=True)
class OutputTarget:
    path: str
    shard_format: str | None  # None: one JSONL file written by the driver, in input order

    @property
    def is_folder(self) -> bool:
        return self.shard_format is not None


def output_target(path: str, shard_format: str = "jsonl") -> OutputTarget:
    """A path ending in .jsonl / .ndjson (or ``-``) is a file; anything else is a folder of shards."""
    if path == STDIO or Path(path).suffix.lower() in _FILE_SUFFIXES and not os.path.isdir(path):
        return OutputTarget(path, None)
    if shard_format not in SHARD_FORMATS:
        raise BatchError(f"unknown shard format {shard_format!r}; choose one of {', '.join(SHARD_FORMATS)}")
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileFault(f"output {path} is a file; give a .jsonl name for one file or a folder for shards")
    return OutputTarget(os.path.abspath(path), shard_format)


def already_written(target: OutputTarget) -> Previous:
    """What earlier runs wrote: records per id, error records, task sets (half-written lines and shards are
    dropped). A file output is read by its ``RecordWriter`` instead, once it holds the file's lock."""
    if not target.is_folder:
        return scan_output(target.path)
    prev = Previous()
    if not os.path.isdir(target.path):
        return prev
    for name in os.listdir(target.path):
        if name.startswith(_TMP_PREFIX):  # a shard a killed run had not finished: its rows are redone
            os.unlink(os.path.join(target.path, name))
    for path in shard_paths(target.path):
        for record in read_shard(path):
            prev.counts[str(record["id"])] += 1
            if record.get("error"):
                prev.failed += 1
            else:
                prev.tasks.add(record_tasks(record))
    return prev


def shard_paths(folder: str) -> list[str]:
    names = sorted(n for n in os.listdir(folder) if n.startswith("part-") and n.endswith((".jsonl", ".parquet")))
    return [os.path.join(folder, n) for n in names]


def claim_folder(folder: str, job: str) -> None:
    """Make ``job`` the one job whose workers may add shards to ``folder``.

    A rerun claims the folder before it reads which ids are done, so a worker of the failed job that is still
    finishing a window (Ray stops a dead driver's actors within seconds, not at once) cannot add a shard the
    rerun did not count: ``write_shard`` refuses it.
    """
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{_TMP_PREFIX}{uuid.uuid4().hex}-job")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(job)
    os.replace(tmp, os.path.join(folder, _OWNER))


def folder_owner(folder: str) -> str | None:
    try:
        with open(os.path.join(folder, _OWNER), encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


class StaleJob(RuntimeError):
    """A worker of a job that no longer owns the output folder (a rerun took over)."""


def write_shard(
    folder: str, key: str, records: list[dict[str, Any]], shard_format: str, job: str | None = None
) -> str:
    """Write ``records`` as shard ``part-<key>``: to a temporary name first, then renamed (atomic on POSIX).

    With ``job``, the shard is only added while that job owns the folder (``claim_folder``).
    """
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, f"part-{key}.{shard_format}")
    tmp = os.path.join(folder, f"{_TMP_PREFIX}{uuid.uuid4().hex}-part-{key}.{shard_format}")
    if shard_format == "jsonl":
        with open(tmp, "wb") as fh:
            fh.writelines(record_bytes(r) for r in records)  # the lines a JSONL file output gets
            fh.flush()
            os.fsync(fh.fileno())
    else:
        import pyarrow.parquet as pq  # lazy: pyarrow is heavy; only Parquet shards pay for it

        from nlp_service.batch.parquet_records import records_to_table  # lazy: imports pyarrow

        pq.write_table(records_to_table(records), tmp)
    if job is not None and (owner := folder_owner(folder)) != job:
        os.unlink(tmp)
        raise StaleJob(f"{folder} belongs to job {owner} now, not to this worker's job {job}")
    os.replace(tmp, final)
    return final


def read_shard(path: str) -> list[dict[str, Any]]:
    """The records of one shard, as dicts equal to the ones the local engine writes."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq  # lazy: pyarrow is heavy; only Parquet shards pay for it

        from nlp_service.batch.parquet_records import table_to_records  # lazy: imports pyarrow

        return table_to_records(pq.read_table(path))
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_output(path: str) -> list[dict[str, Any]]:
    """Every record of a JSONL output file, or of a folder's shards in shard-name order (tests, tools)."""
    if os.path.isdir(path):
        return [r for p in shard_paths(path) for r in read_shard(p)]
    return read_shard(path)
