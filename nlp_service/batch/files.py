"""How the batch readers turn an input file's bytes into text lines: its encoding, its compression, its line ends.

- **Compression**: a name ending in ``.gz`` (``articles.jsonl.gz``, ``articles.csv.gz``) is read through gzip;
  its format is the extension before ``.gz``.
- **Encoding**: ``encoding=None`` (``--encoding auto``, the default) looks at the first 64 KiB. A byte-order
  mark names the encoding (UTF-8, UTF-16 or UTF-32); text without one whose every other byte is NUL is UTF-16;
  anything else is UTF-8. A file whose first 64 KiB hold a Latin-1 / Windows-1252 character (one byte of 0x80
  or more between ASCII bytes, which UTF-8 never writes) is refused before anything is written, with a message
  naming ``--encoding latin-1``: reading it as UTF-8 would turn every "é" into U+FFFD without a word. Other bad
  bytes, and any further on, become U+FFFD (one bad byte in a million rows must not stop a run) and the run
  logs how many there were. A named encoding is used as given.
- **Line ends**: JSONL at ``\\n`` only (JSON escapes every line break inside a string, so a raw carriage return
  belongs to its row); CSV as the csv module wants (``newline=""``).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import logging
import re
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from nlp_service.batch.errors import BatchError, FileFault

log = logging.getLogger(__name__)

STDIO = "-"  # as --input or --output: stdin / stdout
SNIFF_BYTES = 65_536
_NEWLINE = {"jsonl": "\n", "csv": ""}
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_HINT = "if the file is Latin-1 or Windows-1252, pass --encoding latin-1 (or --encoding cp1252)"
_REPLACE = "nlp_service_replace"


class _Replaced:
    """Counts the bad byte sequences the lenient decoder replaced, so that the run can say so once."""

    count = 0

    @classmethod
    def handler(cls, exc: UnicodeError) -> tuple[str, int]:
        cls.count += 1
        return "\ufffd", exc.end  # type: ignore[attr-defined]


codecs.register_error(_REPLACE, _Replaced.handler)


def is_gzip(path: str) -> bool:
    return path.lower().endswith(".gz")


def check_encoding(encoding: str | None) -> None:
    """``encoding`` is None (auto) or a codec Python knows (BatchError otherwise)."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BatchError(f"unknown encoding {encoding!r}; e.g. utf-8, latin-1, cp1252, utf-16, or auto") from None


def open_text(path: str, fmt: str, encoding: str | None = None) -> contextlib.AbstractContextManager[TextIO]:
    """The input (a file, ``.gz`` or not, or ``-`` for stdin) as text lines, decoded as described above."""
    if path == STDIO:
        return _stdin_text(fmt, encoding)
    try:
        raw: BinaryIO = (
            io.BufferedReader(gzip.open(path, "rb"), SNIFF_BYTES)  # type: ignore[arg-type]
            if is_gzip(path)
            else open(path, "rb", buffering=SNIFF_BYTES)
        )
    except OSError as exc:
        raise FileFault(f"cannot read {path}: {exc.strerror or exc}") from exc
    return _decoded(raw, path, fmt, encoding)  # type: ignore[arg-type]


@contextlib.contextmanager
def _stdin_text(fmt: str, encoding: str | None) -> Iterator[TextIO]:
    if not hasattr(sys.stdin, "buffer"):  # stdin replaced by a text stream (a test, an embedding application)
        yield sys.stdin
        return
    with _decoded(sys.stdin.buffer, "stdin", fmt, encoding, close=False) as text:
        yield text


@contextlib.contextmanager
def _decoded(
    raw: io.BufferedReader, name: str, fmt: str, encoding: str | None, close: bool = True
) -> Iterator[TextIO]:
    if not hasattr(raw, "peek"):  # a stream without a read-ahead buffer (a pipe's raw object, BytesIO)
        raw = io.BufferedReader(raw, SNIFF_BYTES)  # type: ignore[arg-type]
    try:
        sample = _peek(raw)
    except (OSError, EOFError) as exc:  # a .gz that is not gzip, an unreadable file
        if close:
            raw.close()
        raise FileFault(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from exc
    chosen = encoding or sniff_encoding(sample, name)
    before = _Replaced.count
    text = io.TextIOWrapper(raw, encoding=chosen, errors=_REPLACE, newline=_NEWLINE[fmt])  # type: ignore[arg-type]
    try:
        yield text
    finally:
        if close:
            text.close()
        else:
            text.detach()
        replaced = _Replaced.count - before
        if replaced:
            log.warning("%s: %d byte sequences were not %s and were read as U+FFFD; %s",
                        name, replaced, chosen, ENCODING_HINT)


def _peek(raw: io.BufferedReader) -> bytes:
    """The first bytes of the stream without consuming them (up to the reader's buffer: 64 KiB for a file)."""
    return raw.peek(SNIFF_BYTES)[:SNIFF_BYTES]


def sniff_encoding(sample: bytes, name: str) -> str:
    """The encoding of a file that starts with ``sample`` (see the module docstring); BatchError for one that
    is not UTF-8."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    single = _SINGLE_HIGH_BYTE.search(sample)
    if single:
        line = sample.count(b"\n", 0, single.start()) + 1
        raise BatchError(
            f"{name} is not UTF-8: byte 0x{sample[single.start()]:02x} on line {line} cannot be decoded; "
            f"{ENCODING_HINT}. Nothing was analysed"
        )
    return "utf-8"


# A byte of 0x80 or more between two ASCII bytes: how Latin-1 and Windows-1252 write "é" or "£", and never valid
# UTF-8 (which writes every other character as two to four such bytes). Other bad sequences (binary junk, an
# encoded surrogate) are the stray bytes that are replaced.
_SINGLE_HIGH_BYTE = re.compile(rb"(?<![\x80-\xff])[\x80-\xff](?![\x80-\xff])")


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters has a NUL in every other byte."""
    head = sample[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None
