"""Running an exported encoder graph with ONNX Runtime: one session per graph, loaded once and shared between
threads (``InferenceSession.run`` is thread-safe), with explicit thread counts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# "onnx" (default) or "torch": which runtime serves the encoders. Set NLP_SERVICE_RUNTIME=torch to rule ONNX
# Runtime out (debugging, or a platform without its wheel).
RUNTIME_ENV = "NLP_SERVICE_RUNTIME"
SHRINK_ARENA_AFTER_RUN = True


@dataclass(frozen=True)
class RuntimeOptions:
    backend: str = "onnx"  # "onnx" or "torch"
    threads: int | None = None  # intra-op threads; None = torch's setting (the process's one thread knob)

    @classmethod
    def from_env(cls) -> RuntimeOptions:
        backend = os.environ.get(RUNTIME_ENV, "onnx").strip().lower() or "onnx"
        if backend not in ("onnx", "torch"):
            raise ValueError(f"{RUNTIME_ENV} must be 'onnx' or 'torch', not {backend!r}")
        return cls(backend=backend)


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401  # lazy: an import that fails says ONNX Runtime cannot serve here
    except ImportError:
        return False
    return True


class OnnxModel:
    """``model(input_ids, attention_mask)`` → {output name: float32 array}, like the torch module it came from."""

    def __init__(self, path: Path, threads: int | None = None, dynamic_int8: bool = False):
        """``dynamic_int8``: the graph quantises its activations per call (``quantize_dynamic``), one scale over
        the whole batch, so a row's outputs depend on the other rows of its call (``batch_invariant``)."""
        # lazy: onnxruntime and torch are heavy; --help must not load them
        import onnxruntime as ort
        import torch  # lazy: torch is heavy; only this fallback needs it

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        # One graph runs at a time per request; a second pool of inter-op threads would only contend for cores.
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.dynamic_int8 = dynamic_int8
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]
        # The CPU arena keeps every run's peak (grown in powers of two) for the life of the process: ~300 MB
        # after one batch of 64 long sentences. Shrinking it after each run returns that memory; a run still
        # reuses its own allocations. Measured in docs/performance.md.
        self.run_options = ort.RunOptions()
        if SHRINK_ARENA_AFTER_RUN:
            self.run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def __call__(self, input_ids, attention_mask) -> dict[str, np.ndarray]:
        feeds = {"input_ids": _int64(input_ids), "attention_mask": _int64(attention_mask)}
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds, self.run_options), strict=True))


def _int64(x) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.int64)
