"""The ``nlp-service`` console script: ``batch``, ``verify``, ``serve``, ``show``, and the commands other
packages add by entry point (``plugins.py``; the project's training package adds ``train`` and ``eval``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint

from nlp_service.cli.console import quiet_libraries
from nlp_service.cli.dispatch import run
from nlp_service.cli.loading import load_analyzer
from nlp_service.cli.show import format_record, printable

__all__ = ["format_record", "load_analyzer", "main", "printable", "quiet_libraries"]


def main(argv: Sequence[str] | None = None, plugins: Mapping[str, EntryPoint] | None = None) -> int:
    """Entry point of ``nlp-service``; returns the exit code (docs/usage.md has the table). ``plugins``: the
    commands other packages add, by name (default: the installed entry points of ``nlp_service.commands``)."""
    # Looked up here on each call, so that replacing ``nlp_service.cli.load_analyzer`` reaches every command.
    return run(argv, load_analyzer, plugins)
