"""Sentence embeddings from the packaged MiniLM encoder (mean pooling, L2-normalised), as sentence-transformers
computes them. Used by the extractive summariser and the zero-shot theme prototypes."""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

import numpy as np
import torch

from nlp_service.runtime.onnx_cache import bert_shape, cached_graph, export_onnx, weights_digest
from nlp_service.runtime.onnx_model import OnnxModel, RuntimeOptions, onnx_available
from nlp_service.runtime.tokenizer import EncoderTokenizer
from nlp_service.runtime.weights import minilm_path, quantize_int8

log = logging.getLogger(__name__)

# Tokenising a whole long article to keep its first tokens is most of the cost: texts are cut to this many
# characters per token kept first, with room to spare (English wordpieces average ~4-5 characters).
CHARS_PER_TOKEN = 10


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class _Traceable(torch.nn.Module):
    """Encoder + mean pooling + L2 normalisation in one graph, for the ONNX export."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return torch.nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)


class SentenceEncoder:
    def __init__(
        self,
        path: str | Path | None = None,
        max_length: int = 128,
        quantize: bool = False,
        runtime: RuntimeOptions | None = None,
    ):
        """``quantize``: dynamic int8 matrix products (CPU; faster; the extractive summariser's ROUGE beside
        fp32's is in docs/performance.md). ``runtime``: ONNX Runtime by default (``NLP_SERVICE_RUNTIME``), the
        torch model where ONNX Runtime cannot serve."""
        path = Path(path) if path else minilm_path()
        self.tokenizer = EncoderTokenizer.from_folder(path)
        self.max_length = max_length
        self._lock = threading.Lock()  # one forward at a time: the runtime already uses every core
        runtime = runtime or RuntimeOptions.from_env()
        self.onnx: OnnxModel | None = None
        self.model: torch.nn.Module | None = None
        if runtime.backend == "onnx" and onnx_available():
            self.onnx = _onnx_encoder(path, quantize, runtime.threads)
        if self.onnx is None:
            from transformers import AutoModel  # lazy: ~0.6 s to import; the ONNX path does not need it

            self.model = AutoModel.from_pretrained(path).eval()
            if quantize:
                self.model = quantize_int8(self.model)
        self.dim = int(self.onnx.session.get_outputs()[0].shape[1]) if self.onnx else self.model.config.hidden_size

    @property
    def runtime(self) -> str:
        return "onnx" if self.onnx is not None else "torch"

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            input_ids, attention_mask = self.tokenizer.batch(
                [t[: self.max_length * CHARS_PER_TOKEN] for t in texts[start : start + batch_size]], self.max_length
            )
            with self._lock:
                if self.onnx is not None:
                    emb = self.onnx(input_ids, attention_mask)["embedding"]
                else:
                    mask = torch.from_numpy(attention_mask)
                    hidden = self.model(input_ids=torch.from_numpy(input_ids), attention_mask=mask)
                    emb = torch.nn.functional.normalize(mean_pool(hidden.last_hidden_state, mask), dim=-1).numpy()
            out.append(emb)
        return np.concatenate(out).astype(np.float32)


def _export(path: Path, out: Path, quantize: bool) -> None:
    from transformers import AutoModel  # lazy: ~0.6 s to import; only a missing graph needs it

    model = AutoModel.from_pretrained(path).eval()
    export_onnx(_Traceable(model), out, ["embedding"], quantize, bert_shape(model))


def _onnx_encoder(path: Path, quantize: bool, threads: int | None) -> OnnxModel | None:
    """The cached graph of the encoder at ``path`` (exported now if missing), or None if ONNX Runtime fails."""
    try:
        files = sorted(p for p in path.glob("*") if p.is_file())
        digest = weights_digest(files, f"sentence|{quantize}")
        graph = cached_graph(f"sentence-{path.name}", digest, lambda out: _export(path, out, quantize))
        model = OnnxModel(graph, threads, dynamic_int8=quantize)
        model(np.array([[101, 102]]), np.array([[1, 1]]))  # a graph that cannot run fails now, not per request
        return model
    except Exception as exc:  # any failure means: serve the torch model instead
        log.warning("ONNX Runtime path unavailable for %s (%s); serving the torch model", path, exc)
        return None


def shared_encoder(quantize: bool = False) -> SentenceEncoder:
    """One process-wide instance of the packaged encoder per precision (loading costs ~0.5 s and 90 MB)."""
    return _shared_encoder(bool(quantize))  # one cache key however it is called


@cache
def _shared_encoder(quantize: bool) -> SentenceEncoder:
    return SentenceEncoder(quantize=quantize)
