"""The classifier's serving model as an ONNX Runtime graph: MiniLM with the checkpoint's LoRA merged in, mean
pooling and both heads, exported from whatever checkpoint is loaded and cached by a hash of its files.

On a cache hit nothing of the torch model is built (the export needs it, serving does not), which is most of
the load time. Any failure to export or open the graph returns None and the caller serves the torch model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nlp_service.classify.checkpoint import ADAPTER_DIR, CONFIG_NAME, HEADS_NAME
from nlp_service.runtime.onnx_cache import bert_shape, cached_graph, export_onnx, weights_digest
from nlp_service.runtime.onnx_model import OnnxModel
from nlp_service.runtime.weights import resolve_base_model

log = logging.getLogger(__name__)
OUTPUTS = ["theme_logits", "region_logits", "pooled"]


class _Traceable(nn.Module):
    """The topic model's forward with tuple outputs, as the exporter wants them."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(input_ids, attention_mask)
        return tuple(out[k] for k in OUTPUTS)


class OnnxTopicModel(OnnxModel):
    """Called like the torch TopicModel: ``model(input_ids, attention_mask)`` → theme/region logits, pooled."""

    @property
    def hidden_size(self) -> int:
        return int(self.session.get_outputs()[OUTPUTS.index("pooled")].shape[1])


def checkpoint_files(folder: Path, base_model: str) -> list[Path]:
    """Every file the served encoder and heads are computed from: the checkpoint's and the base model's."""
    base = resolve_base_model(base_model)
    own = [folder / CONFIG_NAME, folder / HEADS_NAME, *sorted((folder / ADAPTER_DIR).glob("*"))]
    return [p for p in own if p.is_file()] + sorted(p for p in base.glob("*") if p.is_file())


def _export(model: nn.Module, out: Path, quantize: bool) -> None:
    """The topic model with its LoRA merged (one plain BERT pass, as torch serves it) into ``out``."""
    model.encoder = model.encoder.merge_and_unload()
    export_onnx(_Traceable(model), out, OUTPUTS, quantize, bert_shape(model.encoder))


def onnx_topic_model(
    folder: Path, base_model: str, quantize: str | None, build_torch: Callable[[], nn.Module], threads: int | None
) -> OnnxTopicModel | None:
    """The cached graph of this checkpoint (exported now if missing) in an ONNX Runtime session, or None."""
    try:
        digest = weights_digest(checkpoint_files(folder, base_model), f"classifier|{quantize}")
        path = cached_graph("classifier", digest, lambda out: _export(build_torch(), out, quantize == "int8"))
        model = OnnxTopicModel(path, threads, dynamic_int8=quantize == "int8")
        if model.output_names != OUTPUTS:
            raise ValueError(f"{path}: outputs {model.output_names}, expected {OUTPUTS}")
        # A cached graph that cannot run (a truncated copy, a runtime mismatch) must fail here, not per request.
        model(np.array([[101, 102]]), np.array([[1, 1]]))
        return model
    except Exception as exc:  # any failure means: serve the torch model instead
        log.warning("ONNX Runtime path unavailable for %s (%s); serving the torch model", folder, exc)
        return None
