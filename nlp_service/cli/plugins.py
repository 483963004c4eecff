"""Commands that other packages add to ``nlp-service``, found by entry point: a package declares

    [project.entry-points."nlp_service.commands"]
    train = "some_package.cli:train_main"

and ``nlp-service train ARGS…`` calls ``train_main([ARGS…])``, which returns the exit code (None: 0) or raises
SystemExit. The project's training package adds ``train`` and ``eval`` this way; the inference package never
imports it otherwise (entry points are read from the installed metadata: ``pip install -e .`` refreshes them).
"""

from __future__ import annotations

import sys
import traceback
import warnings
from importlib.metadata import EntryPoint, distributions

from nlp_service.batch import EXIT_INTERNAL, EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE
from nlp_service.cli.console import error, quiet_libraries

GROUP = "nlp_service.commands"
NONE_INSTALLED = (
    f"no command {{name!r}}: no package has added commands to nlp-service (entry point group {GROUP}); "
    "train and eval come with the project's training package: run pip install -e . in the source checkout"
)


def installed_commands() -> dict[str, EntryPoint]:
    """The commands the installed packages add, by name (reads metadata only: nothing is imported).

    Every distribution's metadata is read, not only the first of each name (what ``entry_points()`` does): a stale
    ``*.egg-info`` folder in a source checkout on ``sys.path`` would otherwise hide the installed commands."""
    commands: dict[str, EntryPoint] = {}
    for dist in distributions():
        for entry in dist.entry_points:
            if entry.group == GROUP:
                commands.setdefault(entry.name, entry)
    return commands


def run_plugin(name: str, entry: EntryPoint, args: list[str], verbose: bool = False) -> int:
    """Call the command ``entry`` with ``args`` in this process and return its exit code. An exception it raises
    is one line and exit code 2 for bad input (a missing file, a bad value), 70 otherwise; ``-v`` adds the
    traceback."""
    try:
        command = entry.load()
    except ImportError as exc:
        return error(f"the command {name!r} ({entry.value}) cannot be loaded: {exc}")
    if not verbose:
        quiet_libraries()
        warnings.simplefilter("ignore")  # library warnings are not the user's to act on (see logs.configure)
    saved = sys.argv
    sys.argv = [f"nlp-service {name}", *args]  # argparse's usage line names the command as the user typed it
    try:
        code = command(list(args))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        return plugin_error(exc, verbose, EXIT_USAGE)
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_OK
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return EXIT_ROWS_FAILED
    except Exception as exc:  # a bug in the command's package: still one line, with a code of its own
        return plugin_error(exc, verbose, EXIT_INTERNAL)
    finally:
        sys.argv = saved
    return EXIT_OK if code is None else int(code)


def plugin_error(exc: BaseException, verbose: bool, code: int) -> int:
    if verbose:
        traceback.print_exception(exc)
    hint = "" if verbose else " (run with -v for the traceback)"
    error(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{hint}")
    return code

