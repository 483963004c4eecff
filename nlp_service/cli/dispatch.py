"""From the command line to a command: ``-v``, the commands other packages add (handed their arguments before
any parsing), then the built-in commands' parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import EntryPoint

from nlp_service.batch import EXIT_USAGE
from nlp_service.cli.arguments import build_parser
from nlp_service.cli.batch import cmd_batch
from nlp_service.cli.console import error, quiet_libraries
from nlp_service.cli.loading import AnalyzerLoader
from nlp_service.cli.plugins import NONE_INSTALLED, installed_commands, run_plugin
from nlp_service.cli.serve import cmd_serve
from nlp_service.cli.show import cmd_show
from nlp_service.cli.verify import cmd_verify
from nlp_service.runtime import logs

COMMANDS: dict[str, Callable[[argparse.Namespace, AnalyzerLoader], int]] = {
    "batch": cmd_batch,
    "serve": cmd_serve,
    "verify": cmd_verify,
    "show": lambda args, _: cmd_show(args),
}


def run(
    argv: Sequence[str] | None, load_analyzer: AnalyzerLoader, plugins: Mapping[str, EntryPoint] | None = None
) -> int:
    """The exit code of the command line ``argv`` (None: ``sys.argv``). ``plugins``: the commands other packages
    add, by name (None: the installed ones; a built-in command's name is never taken)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    commands = {
        name: entry
        for name, entry in (installed_commands() if plugins is None else plugins).items()
        if name not in COMMANDS
    }
    verbose = bool(args_list) and args_list[0] in ("-v", "--verbose")
    rest = args_list[1:] if verbose else args_list
    if rest and rest[0] in commands:
        return run_plugin(rest[0], commands[rest[0]], rest[1:], verbose)
    if rest and not commands and not rest[0].startswith("-") and rest[0] not in COMMANDS:
        return error(NONE_INSTALLED.format(name=rest[0]))
    parser = build_parser(commands)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2): return it instead
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logs.configure(args.verbose)
    quiet_libraries()
    return COMMANDS[args.command](args, load_analyzer)
