"""``nlp-service show``: a JSONL file of records printed readably, safe for a terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import unicodedata
from collections.abc import Iterable
from typing import Any

from nlp_service.batch import EXIT_OK, EXIT_ROWS_FAILED
from nlp_service.cli.console import error


def cmd_show(args: argparse.Namespace) -> int:
    try:
        if args.file == "-":
            return show(sys.stdin)
        with open(args.file, encoding="utf-8") as fh:
            return show(fh)
    except BrokenPipeError:  # `show out.jsonl | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return EXIT_OK
    except OSError as exc:
        return error(f"cannot read {args.file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return error(f"{args.file} is not a UTF-8 text file")


def show(lines: Iterable[str]) -> int:
    """Print each record of ``lines``; exit code 1 if a line is not a JSON record (it is named, the rest shown)."""
    bad = 0
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            bad += 1
            print(f"(line {line_no} is not a JSON record)\n")
            continue
        print(format_record(record))
    return EXIT_ROWS_FAILED if bad else EXIT_OK


def printable(value: object) -> str:
    """``value`` as text safe for a terminal: control, format (zero-width, bidi) and surrogate characters are
    shown as escapes (``\\x1b``, ``\\u200b``) instead of being sent raw; newlines and tabs become spaces."""
    out = []
    for ch in str(value):
        if ch in "\n\t\r":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def format_record(record: dict[str, Any], width: int = 100) -> str:
    """One record as a few readable lines: id, themes, regions, countries, summary (and error / warnings).
    Every string passes through ``printable``: a record holds text from the input, which may hold escapes."""
    record = _printable_tree(record)
    head = str(record.get("id"))
    if record.get("error"):
        return f"{head}\n  error:     {record['error']}\n"
    lines = [head]
    if "themes" in record:
        lines.append(_field("themes", [f"{t['name']} {t['score']:.2f}" for t in record["themes"]]))
    if "regions" in record:
        lines.append(_field("regions", [f"{r['name']} {r['score']:.2f}" for r in record["regions"]]))
    if "countries" in record:
        countries = [f"{c['name']} ({c['code']}) {c['score']:.2f}{_mentions(c)}" for c in record["countries"]]
        lines.append(_field("countries", countries))
    if "summary" in record:
        method = record.get("summary_method", "?")
        note = method if record.get("faithful", True) else f"{method}, failed the faithfulness check"
        body = textwrap.fill(
            record["summary"], width=width, initial_indent="  summary:   ", subsequent_indent=" " * 13
        )
        lines.append(f"{body}\n{' ' * 13}[{note}]")
    if record.get("warnings"):
        lines.append(_field("warnings", record["warnings"]))
    return "\n".join(lines) + "\n"


def _mentions(country: dict[str, Any], most: int = 3) -> str:
    """ ' [Addis Ababa, Ethiopian]': the first distinct surfaces that named the country."""
    surfaces = list(dict.fromkeys(e["surface"] for e in country.get("evidence") or []))
    return f" [{', '.join(surfaces[:most])}{', …' if len(surfaces) > most else ''}]" if surfaces else ""


def _printable_tree(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable_tree(v) for v in value]
    return value


def _field(name: str, items: list[str]) -> str:
    # "; " separates labels because IPTC theme names contain commas ("economy, business and finance").
    return f"  {name + ':':<11}{'; '.join(items) if items else '-'}"
