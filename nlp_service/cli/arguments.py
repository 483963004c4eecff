"""The argument parser of ``nlp-service`` and the value types of its options."""

from __future__ import annotations

import argparse
import codecs
import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path

from nlp_service.analyzer import ALL_TASKS, TASKS
from nlp_service.batch import FORMATS
from nlp_service.batch.engines import ENGINES, SHARD_FORMATS
from nlp_service.summarize import DEFAULT_MAX_WORDS

ENCODING_HELP = (
    "input encoding, e.g. latin-1, cp1252, utf-16 (default auto: a byte-order mark or UTF-16 is detected, "
    "anything else is read as UTF-8, and a file that looks Latin-1 is refused with this hint)"
)
BATCH_DESCRIPTION = (
    "Analyse every row of INPUT and append one JSON record per row to OUTPUT, in input order. "
    "Rows need an 'id' (else their row number is used, as '#3') and 'text' or 'title'+'body'. "
    "Rerunning the same command resumes: ids already in OUTPUT are skipped. "
    "Exit code 0: all rows ok; 1: OUTPUT holds error records; 2: usage error; 3: a file cannot be "
    "read or written (disk full, damaged input); 4: another run is writing to OUTPUT; "
    "70: internal error; 130: Ctrl-C; 143: SIGTERM."
)
VERIFY_DESCRIPTION = (
    "For every row of INPUT (JSONL with 'id', 'text' or 'title'+'body', and 'summary') write one "
    "record to OUTPUT: faithful, score (calibrated probability that the summary is supported) and the "
    "unsupported spans (nlp_service/data/verify.schema.json). Exit code 0: all rows checked; 1: some rows "
    "could not be read (error records); 2: usage error."
)


def build_parser(plugins: Mapping[str, EntryPoint]) -> argparse.ArgumentParser:
    """The parser of the built-in commands; ``plugins`` (the commands other packages add) are listed in --help
    only: ``main`` hands them their arguments before parsing."""
    parser = argparse.ArgumentParser(
        prog="nlp-service",
        description="Tag news articles with countries, regions and IPTC themes, and summarise them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_batch(sub.add_parser(
        "batch",
        help="analyse a JSONL / CSV / Parquet file into a JSONL file of records (resumable)",
        description=BATCH_DESCRIPTION,
    ))
    add_serve(sub.add_parser("serve", help="run the HTTP service (OpenAPI docs at /docs)"))
    add_verify(sub.add_parser(
        "verify",
        help="check summaries against their articles: JSONL of text + summary in, JSONL records out",
        description=VERIFY_DESCRIPTION,
    ))
    sh = sub.add_parser("show", help="print a JSONL file of records readably")
    sh.add_argument("file", help="records file written by 'batch', or - for stdin")
    for name, entry in plugins.items():
        sub.add_parser(name, help=f"run {entry.value} with the remaining arguments", add_help=False)
    return parser


def add_batch(b: argparse.ArgumentParser) -> None:
    b.add_argument("-i", "--input", required=True, help="input file, or - for stdin (JSONL unless --format)")
    b.add_argument(
        "-o", "--output", required=True,
        help="output file: JSONL (appended to; - for stdout), or .csv / .parquet by its suffix (written at the end)",
    )
    b.add_argument(
        "--format", choices=FORMATS, help="input format (default: by extension; .gz is read)"
    )
    b.add_argument("--encoding", type=encoding, default=None, help=ENCODING_HELP)
    b.add_argument(
        "--tasks",
        type=tasks,
        default=TASKS,
        help=f"comma-separated subset of {','.join(ALL_TASKS)} (default: {','.join(TASKS)})",
    )
    b.add_argument(
        "--batch-size", type=positive_int, default=16, help="articles per model call (default 16)"
    )
    b.add_argument(
        "--max-words", type=positive_int, default=DEFAULT_MAX_WORDS,
        help=f"summary length cap in words (default {DEFAULT_MAX_WORDS})",
    )
    b.add_argument(
        "--method",
        choices=("extractive", "abstractive"),
        help="summariser method (default: the one the checkpoint was measured best with)",
    )
    b.add_argument("--top-k", type=positive_int, help="at most K labels per list")
    b.add_argument(
        "--threshold", type=threshold, action="append", default=[], metavar="NAME=P",
        help="report a label from probability P on (repeatable): a theme or region name, or themes, regions, "
             "countries for the whole list; overrides the tuned thresholds (a name the checkpoint does not report "
             "stops the run before its first row)",
    )
    b.add_argument("--explain", action="store_true", help="each reported theme carries its evidence")
    for name in ("id", "text", "title", "body"):
        b.add_argument(f"--{name}-field", metavar="COLUMN", help=f"the input column that holds the {name}")
    b.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    g = b.add_argument_group("scale-out (docs/scale-out.md)")
    g.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: this process (default); ray: Ray Data over a pool of actors (needs the .[ray] extra)",
    )
    g.add_argument("--address", help="Ray cluster to join: auto or ray://host:port (default: start a local Ray)")
    g.add_argument("--num-actors", type=positive_int, help="Ray: model replicas, one CPU each (default 2)")
    g.add_argument(
        "--shard-format",
        choices=SHARD_FORMATS,
        help="Ray, OUTPUT a folder (a name not ending in .jsonl, .ndjson, .csv or .parquet): format of its shards "
        "(default jsonl)",
    )


def add_serve(s: argparse.ArgumentParser) -> None:
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port, default=8000, help="port, 0-65535 (default 8000; 0 = any free port)")
    s.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    s.add_argument(
        "--model-threads",
        type=positive_int,
        default=default_model_threads(),
        help="torch threads of the model calls (default: CPUs - 1, at least 1: one core stays with the event "
        "loop that answers /healthz and refuses excess requests)",
    )
    s.add_argument(
        "--model-nice",
        type=int,
        default=0,
        help="niceness added to the model thread, so that /healthz and refusals are answered first on a busy "
        "machine (default 0: on a machine shared with other work it also slows the model; docs/reliability.md)",
    )


def add_verify(v: argparse.ArgumentParser) -> None:
    v.add_argument("-i", "--input", required=True, help="input JSONL file, or - for stdin")
    v.add_argument("-o", "--output", required=True, help="output JSONL file (overwritten), or - for stdout")
    v.add_argument("--batch-size", type=positive_int, default=32, help="rows per model call (default 32)")
    v.add_argument("--encoding", type=encoding, default=None, help=ENCODING_HELP)
    v.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")


# -- value types ----------------------------------------------------------------------------------------------
def encoding(value: str) -> str | None:
    """``auto`` → None (detected); else a codec Python knows."""
    if value.lower() == "auto":
        return None
    try:
        codecs.lookup(value)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None
    return value


def tasks(value: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if not found or set(found) - set(ALL_TASKS):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(ALL_TASKS)}, got {value!r}"
        )
    return found


def default_model_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {n}")
    return n


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def threshold(value: str) -> tuple[str, float]:
    """``NAME=P`` → (name, p), p a probability."""
    name, sep, number = value.rpartition("=")
    try:
        p = float(number)
    except ValueError:
        p = -1.0
    if not sep or not name.strip() or not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"expected NAME=P with P between 0 and 1, got {value!r}")
    return name.strip(), p
