"""``nlp-service verify``: summaries checked against their articles, a JSONL file in, one of records out."""

from __future__ import annotations

import argparse
import sys

from nlp_service.batch import EXIT_OK, EXIT_ROWS_FAILED, BatchError, run_verify
from nlp_service.cli.console import error
from nlp_service.cli.loading import AnalyzerLoader


def cmd_verify(args: argparse.Namespace, load_analyzer: AnalyzerLoader) -> int:
    try:
        stats = run_verify(load_analyzer(args.checkpoint), args.input, args.output, args.batch_size, args.encoding)
    except BatchError as exc:
        return error(str(exc), exc.exit_code)
    except (FileNotFoundError, ValueError, OSError) as exc:
        return error(str(exc))
    print(stats.line(), file=sys.stderr)
    return EXIT_ROWS_FAILED if stats.errors else EXIT_OK
