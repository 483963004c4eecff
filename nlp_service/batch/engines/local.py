"""The local engine: the existing one-process batch runner, under the engine interface."""

from __future__ import annotations

from nlp_service.analyzer import Analyzer
from nlp_service.batch.runner import BatchConfig, BatchStats, run_batch


def run_local(analyzer: Analyzer, input_path: str, output_path: str, config: BatchConfig) -> BatchStats:
    """Analyse ``input_path`` into the JSONL file ``output_path`` in this process (resumable, id-level)."""
    return run_batch(analyzer, input_path, output_path, config)
