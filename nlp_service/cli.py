"""The ``nlp-service`` console script: ``batch``, ``serve``, ``show``, and ``eval`` / ``train``, which hand
over to the training package (imported only then: the inference package never depends on it)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import runpy
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp_service.analyzer import TASKS, AnalyzeOptions, Analyzer

if TYPE_CHECKING:
    from nlp_service.batch import BatchConfig, BatchStats

log = logging.getLogger("nlp_service")

# Subcommand → training module run as ``python -m``; every argument after the subcommand goes to it unchanged.
DELEGATES = {"eval": "training.evaluation.run", "train": "training.train_classifier"}

EXIT_OK, EXIT_ROW_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nlp-service``; returns the exit code (0 ok, 1 rows failed, 2 usage or I/O error)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in DELEGATES:
        return delegate(DELEGATES[args_list[0]], args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2): return it instead
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return args.func(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nlp-service",
        description="Tag news articles with countries, regions and IPTC themes, and summarise them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser(
        "batch",
        help="analyse a JSONL / CSV / Parquet file into a JSONL file of records (resumable)",
        description=(
            "Analyse every row of INPUT and append one JSON record per row to OUTPUT, in input order. "
            "Rows need an 'id' (else their row number is used) and 'text' or 'title'+'body'. "
            "Rerunning the same command resumes: ids already in OUTPUT are skipped. "
            "Exit code 0: all rows ok; 1: some rows became error records; 2: usage or I/O error."
        ),
    )
    b.add_argument("-i", "--input", required=True, help="input file, or - for stdin (JSONL unless --format)")
    b.add_argument("-o", "--output", required=True, help="output JSONL file (appended to), or - for stdout")
    b.add_argument(
        "--format", choices=("jsonl", "csv", "parquet"), help="input format (default: by extension)"
    )
    b.add_argument(
        "--tasks",
        type=_tasks,
        default=TASKS,
        help=f"comma-separated subset of {','.join(TASKS)} (default: both)",
    )
    b.add_argument(
        "--batch-size", type=_positive_int, default=16, help="articles per model call (default 16)"
    )
    b.add_argument(
        "--max-words", type=_positive_int, default=45, help="summary length cap in words (default 45)"
    )
    b.add_argument(
        "--method",
        choices=("extractive", "abstractive"),
        help="summariser method (default: the one the checkpoint was measured best with)",
    )
    b.add_argument("--top-k", type=_positive_int, help="at most K labels per list")
    b.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_engine_options(b)
    b.set_defaults(func=cmd_batch)

    s = sub.add_parser("serve", help="run the HTTP service (OpenAPI docs at /docs)")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    s.set_defaults(func=cmd_serve)

    sh = sub.add_parser("show", help="print a JSONL file of records readably")
    sh.add_argument("file", help="records file written by 'batch', or - for stdin")
    sh.set_defaults(func=cmd_show)

    for name, module in DELEGATES.items():
        # Never parsed here (main hands these over first); listed so that --help shows them.
        sub.add_parser(name, help=f"run python -m {module} with the remaining arguments", add_help=False)
    return parser


def _tasks(value: str) -> tuple[str, ...]:
    tasks = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if not tasks or set(tasks) - set(TASKS):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(TASKS)}, got {value!r}"
        )
    return tasks


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def load_analyzer(checkpoint: Path | None) -> Analyzer:
    """The Analyzer for a checkpoint folder (tests replace this to run the commands with fake components)."""
    return Analyzer.load(checkpoint)


def _error(message: str) -> int:
    print(f"nlp-service: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _add_engine_options(b: argparse.ArgumentParser) -> None:
    g = b.add_argument_group("scale-out (docs/scale-out.md)")
    g.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: Ray Data over a pool of actors (needs the .[ray] extra)",
    )
    g.add_argument("--address", help="Ray cluster to join: auto or ray://host:port (default: start a local Ray)")
    g.add_argument("--num-actors", type=_positive_int, help="Ray: model replicas, one CPU each (default 2)")
    g.add_argument(
        "--shard-format",
        choices=("jsonl", "parquet"),
        help="Ray, OUTPUT a folder (a name not ending in .jsonl): format of its shards (default jsonl)",
    )


# -- batch -------------------------------------------------------------------------------------------------
def cmd_batch(args: argparse.Namespace) -> int:
    from nlp_service.batch import BatchConfig, BatchError, run_batch

    try:
        options = AnalyzeOptions(
            tasks=args.tasks, max_words=args.max_words, method=args.method, top_k=args.top_k
        )
        config = BatchConfig(
            fmt=args.format, options=options, batch_size=args.batch_size, progress=not args.no_progress
        )
        if args.engine == "ray":
            stats = _batch_on_ray(args, config)
        else:
            if args.address or args.num_actors or args.shard_format:
                raise BatchError("--address, --num-actors and --shard-format need --engine ray")
            analyzer = load_analyzer(args.checkpoint)
            stats = run_batch(analyzer, args.input, args.output, config)
    except (BatchError, FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("nlp-service: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `-o - | head`: the reader left, nothing more to write to
        return _error("the output pipe was closed")
    print(stats.line(), file=sys.stderr)
    return stats.exit_code


def _batch_on_ray(args: argparse.Namespace, config: BatchConfig) -> BatchStats:
    from nlp_service.engines.ray import RayConfig, run_ray  # imports ray only when the job starts

    ray_config = RayConfig(
        address=args.address, num_actors=args.num_actors or 2, shard_format=args.shard_format or "jsonl"
    )
    return run_ray(args.input, args.output, config, ray_config, checkpoint=args.checkpoint)


# -- serve -------------------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    try:
        analyzer = load_analyzer(args.checkpoint)  # checks the folder now; the models load in the background
    except (FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    import uvicorn

    from nlp_service.server import create_app

    logging.getLogger("nlp_service").setLevel(logging.INFO)  # "models loaded: …" belongs in a server's log

    uvicorn.run(create_app(analyzer), host=args.host, port=args.port, log_level="info")
    return EXIT_OK


# -- show --------------------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace) -> int:
    if args.file == "-":
        return _show(sys.stdin)
    try:
        with open(args.file, encoding="utf-8") as fh:
            return _show(fh)
    except OSError as exc:
        return _error(f"cannot read {args.file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return _error(f"{args.file} is not a UTF-8 text file")


def _show(lines: Iterable[str]) -> int:
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
    return EXIT_ROW_FAILED if bad else EXIT_OK


def format_record(record: dict[str, Any], width: int = 100) -> str:
    """One record as a few readable lines: id, themes, regions, countries, summary (and error / warnings)."""
    head = str(record.get("id"))
    if record.get("error"):
        return f"{head}\n  error:     {record['error']}\n"
    lines = [head]
    if "themes" in record:
        lines.append(_field("themes", [f"{t['name']} {t['score']:.2f}" for t in record["themes"]]))
    if "regions" in record:
        lines.append(_field("regions", [f"{r['name']} {r['score']:.2f}" for r in record["regions"]]))
    if "countries" in record:
        lines.append(
            _field("countries", [f"{c['name']} ({c['code']}) {c['score']:.2f}" for c in record["countries"]])
        )
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


def _field(name: str, items: list[str]) -> str:
    # "; " separates labels because IPTC theme names contain commas ("economy, business and finance").
    return f"  {name + ':':<11}{'; '.join(items) if items else '-'}"


# -- eval / train --------------------------------------------------------------------------------------------
def delegate(module: str, args: list[str]) -> int:
    """Run ``python -m module args…`` in this process and return its exit code."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        return _error(f"{module} is not available: eval and train need the project's source checkout")
    saved = sys.argv
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_OK
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return EXIT_ROW_FAILED
    finally:
        sys.argv = saved
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
