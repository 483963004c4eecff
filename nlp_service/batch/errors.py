"""Why a batch run stops, and the exit code each reason gets.

The codes are the batch script's contract with the scripts that call it (documented in docs/usage.md): ``1``
means "the run finished but some rows are error records", so a run that stops for any other reason must never
exit 1, or a caller would read a crash as partial success.
"""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_ROWS_FAILED = 1  # the run finished; the output holds error records
EXIT_USAGE = 2  # the command cannot run as typed: options, format, checkpoints, a resume that does not fit
EXIT_IO = 3  # a file problem: input missing / unreadable / corrupt, output unwritable, disk full
EXIT_LOCKED = 4  # another run is writing to the same output file
EXIT_INTERNAL = 70  # a bug: an exception nobody expected (BSD's EX_SOFTWARE), one line; -v shows the traceback
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM)


class BatchError(Exception):
    """A usage problem that stops the whole run before or while it writes (exit code 2)."""

    exit_code = EXIT_USAGE


class FileFault(BatchError):
    """The input or the output file cannot be read or written (exit code 3)."""

    exit_code = EXIT_IO


class InputFault(FileFault):
    """The input stopped being readable part way (a damaged Parquet row group, a read error): exit code 3."""


class OutputLocked(BatchError):
    """Another process holds the output file's lock (exit code 4)."""

    exit_code = EXIT_LOCKED


class Terminated(BaseException):
    """Raised by the SIGTERM handler; a BaseException like KeyboardInterrupt, so that the per-row
    ``except Exception`` retries do not swallow it."""

    exit_code = EXIT_TERMINATED


def raise_terminated(signum: int, frame: object) -> None:
    """A SIGTERM handler: stop the run at the next Python instruction (records are written whole; see
    ``RecordWriter.write``)."""
    raise Terminated(signal.Signals(signum).name)
