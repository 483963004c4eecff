"""The batch script's library: read articles (JSONL, CSV, Parquet), analyse them in length-sorted batches, and
append one JSON record per article to a resumable JSONL file (``nlp-service batch``; docs/usage.md).

- ``readers``: input rows (``read_rows``); ``files``: encodings and gzip; ``rows``: a row's id and text, and the
  resume / duplicate-id rules; ``runner``: ``run_batch``; ``outputs``: ``RecordWriter`` (locked, whole lines);
  ``errors``: why a run stops and its exit code; ``export``: CSV / Parquet output; ``verify``: ``nlp-service
  verify``; ``engines``: the Ray engine.
"""

from nlp_service.batch.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    BatchError,
    FileFault,
    InputFault,
    OutputLocked,
    Terminated,
    raise_terminated,
)
from nlp_service.batch.export import export_format, export_records, partial_path
from nlp_service.batch.files import STDIO
from nlp_service.batch.outputs import RecordWriter, escape_id, record_bytes, unescape_id
from nlp_service.batch.readers import FORMATS, BadRow, check_jsonl_fields, read_csv, read_jsonl, read_rows
from nlp_service.batch.rows import DUPLICATE_ID, NO_TEXT, RowRules, input_id, row_id, row_label, row_text
from nlp_service.batch.runner import BatchConfig, BatchStats, run_batch
from nlp_service.batch.verify import VerifyStats, run_verify

__all__ = [
    "DUPLICATE_ID",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_IO",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_ROWS_FAILED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "FORMATS",
    "NO_TEXT",
    "STDIO",
    "BadRow",
    "BatchConfig",
    "BatchError",
    "BatchStats",
    "FileFault",
    "InputFault",
    "OutputLocked",
    "RecordWriter",
    "RowRules",
    "Terminated",
    "VerifyStats",
    "check_jsonl_fields",
    "escape_id",
    "export_format",
    "export_records",
    "input_id",
    "partial_path",
    "raise_terminated",
    "read_csv",
    "read_jsonl",
    "read_rows",
    "record_bytes",
    "row_id",
    "row_label",
    "row_text",
    "run_batch",
    "run_verify",
    "unescape_id",
]
