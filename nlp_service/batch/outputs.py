"""The batch script's output file: opened for append, locked against a second run, read back for resume, and
written one whole record at a time.

- ``RecordWriter(path)`` checks the path (a regular file, its folder a folder), opens it for append and takes
  an exclusive ``flock``: a second run on the same file stops with ``OutputLocked`` instead of appending a
  second copy of every record. The lock goes with the process, so a killed run never leaves a stale lock.
- ``RecordWriter.previous()`` reads what earlier runs wrote (after cutting off a half-written last line):
  records per id, error records, and the task sets the records were made with.
- ``RecordWriter.write`` appends each record with one ``os.write`` and blocks SIGINT/SIGTERM meanwhile, so a
  stopped or killed run leaves whole lines only.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import signal
import stat
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nlp_service.batch.errors import FileFault, OutputLocked
from nlp_service.batch.files import STDIO

log = logging.getLogger(__name__)

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# Line breaks JSON leaves raw but str.splitlines() (and JavaScript, for U+2028/9) split on: written as escapes,
# so a record is one line for every reader. They only occur inside JSON strings, where the escape is the same.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


# An id keeps every character it was given, but UTF-8 cannot store a lone surrogate: each is written as the six
# characters of its JSON escape (\udc00). So that no given id can collide with an escaped one, a run of
# backslashes before such an escape's text (or before a lone surrogate) is doubled: the mapping is one-to-one and
# ``unescape_id`` undoes it.
_ID_BACKSLASHES = re.compile(r"\\+(?=u[dD][89a-fA-F][0-9a-fA-F]{2}|[\ud800-\udfff])")
_ID_ESCAPED = re.compile(r"(\\+)(u[dD][89a-fA-F][0-9a-fA-F]{2})")


def escape_id(text: str) -> str:
    """``text`` storable as UTF-8: lone surrogates as ``\\uXXXX`` text (never U+FFFD, which would make three
    different ids one), backslashes doubled where they would read as such an escape. Plain ids are unchanged."""
    if not _SURROGATES.search(text) and "\\" not in text:
        return text
    text = _ID_BACKSLASHES.sub(lambda m: m.group() * 2, text)
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unescape_id(text: str) -> str:
    """The id as it was given: the inverse of ``escape_id``."""

    def undo(match: re.Match[str]) -> str:
        slashes, code = len(match.group(1)), match.group(2)
        if slashes % 2:  # the last backslash starts the escape of a lone surrogate
            return "\\" * (slashes // 2) + chr(int(code[1:], 16))
        return "\\" * (slashes // 2) + code

    return _ID_ESCAPED.sub(undo, text)


def record_tasks(record: dict[str, Any]) -> frozenset[str]:
    """The tasks a (non-error) record was made with, read from the fields it has."""
    tasks = set()
    if "themes" in record or "countries" in record:
        tasks.add("classify")
    if "summary" in record:
        tasks.add("summarize")
    if "entities" in record:
        tasks.add("entities")
    return frozenset(tasks)


def record_bytes(record: dict[str, Any]) -> bytes:
    """One record as one JSONL line, newline included (every writer of records writes them this way)."""
    try:
        return (json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate got through: JSON's \u escapes can still carry it
        return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


@dataclass
class Previous:
    """What earlier runs left in the output file."""

    # Records per id: a count rather than a set, so that a duplicate id in the input (written as a "duplicate id"
    # error record) is recognised on resume too: its k-th row is done when the file holds k records for it.
    counts: Counter[str] = field(default_factory=Counter)
    failed: int = 0  # error records
    tasks: set[frozenset[str]] = field(default_factory=set)  # task sets of the result records


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_folder(path: str) -> None:
    """The output's folder exists or can be made; a file in the way is named, not reported as 'File exists'."""
    parent = Path(path).parent
    for p in (parent, *parent.parents):
        if p.exists():
            if not p.is_dir():
                raise FileFault(f"cannot write {path}: {p} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileFault(f"cannot create the output folder {parent}: {_describe(exc)}") from exc


def _check_regular(path: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise FileFault(f"the output {path} is a folder; pass a file name (or - for stdout)")
    if not stat.S_ISREG(mode):
        # A device or pipe cannot be resumed from (reading /dev/zero never ends): stdout is '-'.
        raise FileFault(f"the output {path} is not a regular file; pass a file name (or - for stdout)")


class RecordWriter:
    """Appends JSON records to ``path`` (``-`` = stdout), one line each, holding the file's lock."""

    def __init__(self, path: str):
        self.path = path
        self.written = 0
        self._stream: TextIO | None = None
        if path == STDIO:
            sys.stdout.flush()  # anything already buffered must come before our raw writes
            try:
                self._fd, self._owned = sys.stdout.fileno(), False
            except (AttributeError, OSError):  # io.UnsupportedOperation: a notebook's stdout has no descriptor
                self._fd, self._owned, self._stream = -1, False, sys.stdout
            return
        _check_folder(path)
        try:
            _check_regular(path, os.stat(path).st_mode)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise FileFault(f"cannot write {path}: {_describe(exc)}") from exc
        try:
            # O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader forever.
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise FileFault(f"cannot write {path}: {_describe(exc)}") from exc
        self._owned = True
        try:
            _check_regular(path, os.fstat(self._fd).st_mode)
            os.set_blocking(self._fd, True)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise OutputLocked(
                f"another run is writing to {path} (it holds the file's lock); wait for it to finish, "
                "or pass another --output"
            ) from None
        except BaseException:
            os.close(self._fd)
            raise

    # -- resume ------------------------------------------------------------------------------------------------
    def previous(self) -> Previous:
        """What earlier runs wrote; a half-written last line is cut off first (call before writing)."""
        if self.path == STDIO:
            return Previous()
        return scan_output(self.path)

    # -- writing -----------------------------------------------------------------------------------------------
    def write(self, record: dict[str, Any]) -> None:
        data = record_bytes(record)
        if self._stream is not None:
            self._stream.write(data.decode("utf-8"))
            self._stream.flush()
            self.written += 1
            return
        # SIGINT/SIGTERM wait until the line is out: a stopped run leaves whole lines.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # a regular file takes it whole; a pipe may not
                written += os.write(self._fd, data[written:])
            self.written += 1  # counted before a pending signal can stop the run (the resume hint says it)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._fault(exc)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def sync(self) -> None:
        """Make what was written survive a power cut (called once per batch, not per record)."""
        if self._owned:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._fault(exc)

    def _fault(self, exc: OSError) -> None:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "the disk is full"
        else:
            reason = _describe(exc)
        raise FileFault(
            f"cannot write {self.path}: {reason}; {self.written} records were written in this run. "
            "Make room and run the same command again to resume"
        ) from exc

    def close(self) -> None:
        if not self._owned or self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        try:
            os.fsync(fd)
        except OSError:
            pass  # the fault, if any, was reported by write() or sync() already
        finally:
            os.close(fd)  # releases the lock

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------------
# Reading back
# ----------------------------------------------------------------------------------------------------
def scan_output(path: str) -> Previous:
    """Records per id, error records and task sets of an output file; a half-written last line is cut off."""
    prev = Previous()
    if path == STDIO or not os.path.exists(path):
        return prev
    try:
        _check_regular(path, os.stat(path).st_mode)
        _truncate_partial_line(path)
        with open(path, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    prev.counts[str(record["id"])] += 1  # written by escape_id: already UTF-8-safe
                except (json.JSONDecodeError, KeyError, TypeError):
                    log.warning("%s line %d is not a record of this tool; ignored for resume", path, line_no)
                    continue
                if record.get("error"):
                    prev.failed += 1
                else:
                    prev.tasks.add(record_tasks(record))
    except OSError as exc:
        raise FileFault(f"cannot read the existing output {path}: {_describe(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise FileFault(f"the existing output {path} is not a UTF-8 JSONL file") from exc
    return prev


def _truncate_partial_line(path: str) -> None:
    """A run killed mid-write can leave a last line without its newline: drop it, it will be redone."""
    with open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        # Walk back to the last newline in blocks, so a large file is not read whole.
        pos, block = size, 1 << 16
        keep = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        log.warning("%s ended in a partial line (%d bytes); cut off before resuming", path, size - keep)
        fh.truncate(keep)
