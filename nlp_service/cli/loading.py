"""How a command gets its Analyzer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nlp_service.analyzer import Analyzer

# How a command gets the Analyzer for ``--checkpoint`` (``nlp_service.cli.load_analyzer``, which tests replace).
AnalyzerLoader = Callable[[Path | None], Analyzer]


def load_analyzer(checkpoint: Path | None) -> Analyzer:
    """The Analyzer for a checkpoint folder (``nlp_service.cli.load_analyzer``: tests replace it there to run the
    commands with fake components)."""
    return Analyzer.load(checkpoint)
