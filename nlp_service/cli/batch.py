"""``nlp-service batch``: a file of articles into a file of records (resumable), locally or on Ray."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any

from nlp_service.analyzer import AnalyzeOptions
from nlp_service.batch import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    BatchConfig,
    BatchError,
    BatchStats,
    Terminated,
    export_format,
    export_records,
    partial_path,
    raise_terminated,
    run_batch,
)
from nlp_service.batch.engines.outputs import output_target
from nlp_service.batch.engines.ray import RayConfig, run_ray
from nlp_service.cli.console import error
from nlp_service.cli.loading import AnalyzerLoader

log = logging.getLogger("nlp_service")

RESUME_HINT = "run the same command again to resume"


def cmd_batch(args: argparse.Namespace, load_analyzer: AnalyzerLoader) -> int:
    previous = on_sigterm(raise_terminated)
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
        # A .csv / .parquet output: both engines write JSONL next to it (what a rerun resumes from) and convert it
        # when every row is done.
        target = partial_path(args.output) if export else args.output
        if args.engine == "ray":
            if args.shard_format and not is_folder_output(args.output):
                raise BatchError(
                    f"--shard-format is for a folder --output, and {args.output} names one file; drop "
                    "--shard-format, or give a folder name (one not ending in .jsonl, .ndjson, .csv or .parquet)"
                )
            stats = batch_on_ray(args, config, target)
        else:
            if args.address or args.num_actors or args.shard_format:
                raise BatchError("--address, --num-actors and --shard-format need --engine ray")
            stats = run_batch(load_analyzer(args.checkpoint), args.input, target, config)
        if export:
            export_records(target, args.output, export)
            os.remove(target)
    except BatchError as exc:
        error(str(exc))
        return exc.exit_code
    except (FileNotFoundError, ValueError) as exc:
        return error(str(exc))
    except KeyboardInterrupt as exc:
        print(f"nlp-service: interrupted{written(exc)}; {RESUME_HINT}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(f"nlp-service: stopped by SIGTERM{written(exc)}; {RESUME_HINT}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `-o - | head`: the reader left, nothing more to write to
        return error("the output pipe was closed")
    except Exception as exc:  # a bug: still one line and a code of its own, never 1 ("some rows failed")
        log.debug("unexpected error", exc_info=True)
        error(f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback); {RESUME_HINT}")
        return EXIT_INTERNAL
    finally:
        on_sigterm(previous)
    print(stats.line(), file=sys.stderr)
    return stats.exit_code


def on_sigterm(handler: Any) -> Any:
    """Install a SIGTERM handler (only the main thread may); returns the one it replaced."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding application): leave SIGTERM alone
        return None


def written(exc: BaseException) -> str:
    n = getattr(exc, "written", None)
    return "" if n is None else f" after writing {n} records"


def is_folder_output(output: str) -> bool:
    """Whether the Ray engine writes ``output`` as a folder of shards (not a JSONL, CSV or Parquet file)."""
    return export_format(output) is None and output_target(output).is_folder


def batch_on_ray(args: argparse.Namespace, config: BatchConfig, output: str) -> BatchStats:
    """The job on Ray Data (``run_ray`` imports ray only when it starts), into ``output``."""
    ray_config = RayConfig(
        address=args.address, num_actors=args.num_actors or 2, shard_format=args.shard_format or "jsonl"
    )
    return run_ray(args.input, output, config, ray_config, checkpoint=args.checkpoint)
