"""The ``nlp-service`` console script: ``batch``, ``serve``, ``show``, and ``eval`` / ``train``, which hand
over to the training package (imported only then: the inference package never depends on it)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import runpy
import signal
import sys
import textwrap
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp_service.analyzer import ALL_TASKS, TASKS, AnalyzeOptions, Analyzer
from nlp_service.batch.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
    BatchError,
    Terminated,
    raise_terminated,
)
from nlp_service.runtime import logs

if TYPE_CHECKING:
    from nlp_service.batch.runner import BatchConfig, BatchStats

log = logging.getLogger("nlp_service")

# Subcommand → training module run as ``python -m``; every argument after the subcommand goes to it unchanged.
DELEGATES = {"eval": "training.evaluation.run", "train": "training.train_classifier"}

EXIT_ROW_FAILED = EXIT_ROWS_FAILED  # the name earlier callers imported
RESUME_HINT = "run the same command again to resume"


def quiet_libraries() -> None:
    """No 'Loading weights' bars or deprecation FutureWarnings from the model libraries: they are not the
    user's to act on, and they drown the batch script's own progress bar (set before transformers loads)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for module in ("transformers", "peft", "accelerate", "torch"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=rf"{module}(\.|$)")
    if "transformers" in sys.modules:  # already imported (a test, a notebook): tell it directly
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nlp-service``; returns the exit code (docs/usage.md has the table)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = bool(args_list) and args_list[0] in ("-v", "--verbose")
    rest = args_list[1:] if verbose else args_list
    if rest and rest[0] in DELEGATES:
        return delegate(delegate_module(rest), rest[1:], verbose)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2): return it instead
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logs.configure(args.verbose)
    quiet_libraries()
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
            "Exit code 0: all rows ok; 1: OUTPUT holds error records; 2: usage error; 3: a file cannot be "
            "read or written (disk full, damaged input); 4: another run is writing to OUTPUT; "
            "70: internal error; 130: Ctrl-C; 143: SIGTERM."
        ),
    )
    b.add_argument("-i", "--input", required=True, help="input file, or - for stdin (JSONL unless --format)")
    b.add_argument(
        "-o", "--output", required=True,
        help="output file: JSONL (appended to; - for stdout), or .csv / .parquet by its suffix (written at the end)",
    )
    b.add_argument(
        "--format", choices=("jsonl", "csv", "parquet"), help="input format (default: by extension; .gz is read)"
    )
    b.add_argument("--encoding", type=_encoding, default=None, help=ENCODING_HELP)
    b.add_argument(
        "--tasks",
        type=_tasks,
        default=TASKS,
        help=f"comma-separated subset of {','.join(ALL_TASKS)} (default: {','.join(TASKS)})",
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
    b.add_argument(
        "--threshold", type=_threshold, action="append", default=[], metavar="NAME=P",
        help="report a label from probability P on (repeatable): a theme or region name, or themes, regions, "
             "countries for the whole list; overrides the tuned thresholds",
    )
    b.add_argument("--explain", action="store_true", help="each reported theme carries its evidence")
    for name in ("id", "text", "title", "body"):
        b.add_argument(f"--{name}-field", metavar="COLUMN", help=f"the input column that holds the {name}")
    b.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_engine_options(b)
    b.set_defaults(func=cmd_batch)

    s = sub.add_parser("serve", help="run the HTTP service (OpenAPI docs at /docs)")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=_port, default=8000, help="port, 0-65535 (default 8000; 0 = any free port)")
    s.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    s.add_argument(
        "--model-threads",
        type=_positive_int,
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
    s.set_defaults(func=cmd_serve)

    v = sub.add_parser(
        "verify",
        help="check summaries against their articles: JSONL of text + summary in, JSONL records out",
        description="For every row of INPUT (JSONL with 'id', 'text' or 'title'+'body', and 'summary') write one "
        "record to OUTPUT: faithful, score (calibrated probability that the summary is supported) and the "
        "unsupported spans (nlp_service/data/verify.schema.json). Exit code 0: all rows checked; 1: some rows "
        "could not be read (error records); 2: usage error.",
    )
    v.add_argument("-i", "--input", required=True, help="input JSONL file, or - for stdin")
    v.add_argument("-o", "--output", required=True, help="output JSONL file (overwritten), or - for stdout")
    v.add_argument("--batch-size", type=_positive_int, default=32, help="rows per model call (default 32)")
    v.add_argument("--encoding", type=_encoding, default=None, help=ENCODING_HELP)
    v.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped checkpoints/)")
    v.set_defaults(func=cmd_verify)

    sh = sub.add_parser("show", help="print a JSONL file of records readably")
    sh.add_argument("file", help="records file written by 'batch', or - for stdin")
    sh.set_defaults(func=cmd_show)

    for name, module in DELEGATES.items():
        # Never parsed here (main hands these over first); listed so that --help shows them.
        sub.add_parser(name, help=f"run python -m {module} with the remaining arguments", add_help=False)
    return parser


ENCODING_HELP = (
    "input encoding, e.g. latin-1, cp1252, utf-16 (default auto: a byte-order mark or UTF-16 is detected, "
    "anything else is read as UTF-8, and a file that looks Latin-1 is refused with this hint)"
)


def _encoding(value: str) -> str | None:
    """``auto`` → None (detected); else a codec Python knows."""
    if value.lower() == "auto":
        return None
    import codecs

    try:
        codecs.lookup(value)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None
    return value


def _tasks(value: str) -> tuple[str, ...]:
    tasks = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if not tasks or set(tasks) - set(ALL_TASKS):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(ALL_TASKS)}, got {value!r}"
        )
    return tasks


def default_model_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {n}")
    return n


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def _threshold(value: str) -> tuple[str, float]:
    """``NAME=P`` → (name, p), p a probability."""
    name, sep, number = value.rpartition("=")
    try:
        p = float(number)
    except ValueError:
        p = -1.0
    if not sep or not name.strip() or not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"expected NAME=P with P between 0 and 1, got {value!r}")
    return name.strip(), p


def load_analyzer(checkpoint: Path | None) -> Analyzer:
    """The Analyzer for a checkpoint folder (tests replace this to run the commands with fake components)."""
    return Analyzer.load(checkpoint)


def _error(message: str, code: int = EXIT_USAGE) -> int:
    print(f"nlp-service: error: {message}", file=sys.stderr)
    return code


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


# -- verify ------------------------------------------------------------------------------------------------
def cmd_verify(args: argparse.Namespace) -> int:
    from nlp_service.batch.verify import run_verify

    try:
        stats = run_verify(load_analyzer(args.checkpoint), args.input, args.output, args.batch_size, args.encoding)
    except BatchError as exc:
        return _error(str(exc), exc.exit_code)
    except (FileNotFoundError, ValueError, OSError) as exc:
        return _error(str(exc))
    print(stats.line(), file=sys.stderr)
    return EXIT_ROWS_FAILED if stats.errors else EXIT_OK


# -- batch -------------------------------------------------------------------------------------------------
def cmd_batch(args: argparse.Namespace) -> int:
    from nlp_service.batch.export import export as export_records
    from nlp_service.batch.export import export_format, partial_path
    from nlp_service.batch.runner import BatchConfig, run_batch

    previous = _on_sigterm(raise_terminated)
    try:
        options = AnalyzeOptions(
            tasks=args.tasks, max_words=args.max_words, method=args.method, top_k=args.top_k,
            explain=args.explain, thresholds=dict(args.threshold) or None,
        )
        fields = {n: getattr(args, f"{n}_field") for n in ("id", "text", "title", "body")}
        rename = {column: n for n, column in fields.items() if column}
        config = BatchConfig(
            fmt=args.format, encoding=args.encoding, options=options, batch_size=args.batch_size,
            progress=not args.no_progress, rename=rename or None,
        )
        export = export_format(args.output)
        if args.engine == "ray" and (rename or export):
            raise BatchError("--*-field options and .csv / .parquet outputs work with the local engine only")
        if args.engine == "ray":
            stats = _batch_on_ray(args, config)
        else:
            if args.address or args.num_actors or args.shard_format:
                raise BatchError("--address, --num-actors and --shard-format need --engine ray")
            analyzer = load_analyzer(args.checkpoint)
            target = partial_path(args.output) if export else args.output
            stats = run_batch(analyzer, args.input, target, config)
            if export:
                export_records(target, args.output, export)
                os.remove(target)
    except BatchError as exc:
        _error(str(exc))
        return exc.exit_code
    except (FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt as exc:
        print(f"nlp-service: interrupted{_written(exc)}; {RESUME_HINT}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(f"nlp-service: stopped by SIGTERM{_written(exc)}; {RESUME_HINT}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `-o - | head`: the reader left, nothing more to write to
        return _error("the output pipe was closed")
    except Exception as exc:  # a bug: still one line and a code of its own, never 1 ("some rows failed")
        log.debug("unexpected error", exc_info=True)
        _error(f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback); {RESUME_HINT}")
        return EXIT_INTERNAL
    finally:
        _on_sigterm(previous)
    print(stats.line(), file=sys.stderr)
    return stats.exit_code


def _on_sigterm(handler: Any) -> Any:
    """Install a SIGTERM handler (only the main thread may); returns the one it replaced."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding application): leave SIGTERM alone
        return None


def _written(exc: BaseException) -> str:
    n = getattr(exc, "written", None)
    return "" if n is None else f" after writing {n} records"


def _batch_on_ray(args: argparse.Namespace, config: BatchConfig) -> BatchStats:
    from nlp_service.batch.engines.ray import RayConfig, run_ray  # imports ray only when the job starts

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
    import socket

    import uvicorn

    from nlp_service.serve import ServerConfig, create_app, uvicorn_config
    from nlp_service.serve.microbatch import BatcherConfig

    # Bound here rather than by uvicorn: a port in use or a host that does not resolve is one clear line.
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as exc:
        return _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    import torch

    # Measured on 2 shared cores: with 2 torch threads, idle OpenMP threads spinning between calls starved the
    # event loop (/healthz p99 > 1 s) and a lone request took 0.6 s; with 1 thread, 0.05 s.
    torch.set_num_threads(args.model_threads)
    logs.configure_serve(args.verbose)  # one JSON object per line: our records, uvicorn's and the access log
    logging.getLogger("nlp_service").setLevel(logging.INFO)  # "models loaded: …" belongs in a server's log
    # The model thread runs Python between its torch calls; a shorter GIL switch interval (default 5 ms) lets
    # the event loop answer /healthz and refuse excess requests promptly meanwhile.
    sys.setswitchinterval(0.001)
    host, port = sock.getsockname()[:2]
    log.info("listening on http://%s:%s (web page at /, API docs at /docs)", host, port)
    server_config = ServerConfig(batching=BatcherConfig(worker_nice=args.model_nice), checkpoints=args.checkpoint)
    app = create_app(analyzer, config=server_config)
    config = uvicorn_config(app, server_config, log_level="info", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


# -- show --------------------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace) -> int:
    try:
        if args.file == "-":
            return _show(sys.stdin)
        with open(args.file, encoding="utf-8") as fh:
            return _show(fh)
    except BrokenPipeError:  # `show out.jsonl | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return EXIT_OK
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


# -- eval / train --------------------------------------------------------------------------------------------
OWN_TAXONOMY_TRAINER = "training.train_own_themes"  # `train --taxonomy own`: theme heads for your own labels


def delegate_module(args: list[str]) -> str:
    """The training module a delegated command runs: ``train --taxonomy own`` trains own-label theme heads."""
    rest = args[1:]
    pairs = zip(rest, rest[1:], strict=False)
    own = "--taxonomy=own" in rest or any(a == "--taxonomy" and b == "own" for a, b in pairs)
    if args[0] == "train" and own:
        return OWN_TAXONOMY_TRAINER
    return DELEGATES[args[0]]


def delegate(module: str, args: list[str], verbose: bool = False) -> int:
    """Run ``python -m module args…`` in this process and return its exit code. An exception it raises is one
    line and exit code 2 for bad input (a missing file, a bad value), 70 otherwise; ``-v`` adds the traceback."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        return _error(f"{module} is not available: eval and train need the project's source checkout")
    if not verbose:
        quiet_libraries()
        warnings.simplefilter("ignore")  # library warnings are not the user's to act on (see logs.configure)
    saved = sys.argv
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        return _delegate_error(exc, verbose, EXIT_USAGE)
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_OK
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return EXIT_ROW_FAILED
    except Exception as exc:  # a bug in the training code: still one line, with a code of its own
        return _delegate_error(exc, verbose, EXIT_INTERNAL)
    finally:
        sys.argv = saved
    return EXIT_OK


def _delegate_error(exc: BaseException, verbose: bool, code: int) -> int:
    if verbose:
        import traceback

        traceback.print_exception(exc)
    hint = "" if verbose else " (run with -v for the traceback)"
    _error(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{hint}")
    return code


if __name__ == "__main__":
    sys.exit(main())
