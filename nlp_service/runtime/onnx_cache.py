"""ONNX graphs of the project's torch encoders, exported once per set of weights and kept in the cache.

A graph is derived from whatever weights are loaded (a retrained checkpoint gets a new graph): its folder under
``cache_dir()/onnx`` is named by a hash of the files the weights came from plus the exporter's versions. Writing
is atomic like ``gguf_cache``: a temporary sibling folder is renamed, so a crash never leaves half a graph.
Nothing here is committed; the first load after a change pays the export (a few seconds for MiniLM)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from nlp_service.runtime.weights import cached_folder, files_digest

MODEL_FILE = "model.onnx"
# Bumped when the exported graph changes shape or meaning, so that older cached graphs are not reused.
EXPORT_FORMAT = "2"
OPSET = 17
KEEP_PER_NAME = 4  # graphs kept per model name: the current one and a few older checkpoints'


class _DropRecords(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def weights_digest(files: Iterable[Path], extra: str = "") -> str:
    """Hash of the files (``files_digest``), the library versions that shape the graph and ``extra``."""
    import onnxruntime  # lazy: onnxruntime and torch are heavy; --help must not load them
    import torch  # lazy: torch is heavy; only its version is read here

    return files_digest(files, f"{EXPORT_FORMAT}|{torch.__version__}|{onnxruntime.__version__}|{extra}")


def cached_graph(name: str, digest: str, build: Callable[[Path], None]) -> Path:
    """``cache_dir()/onnx/<name>-<digest>/model.onnx``, calling ``build(path)`` to write it on first use. All but
    the ``KEEP_PER_NAME`` newest graphs of ``name`` are then removed: every retrained checkpoint adds one (~60 MB);
    a process still serving a removed graph is unaffected, ONNX Runtime has read it into memory."""
    folder = cached_folder("onnx", name, digest, lambda tmp: build(tmp / MODEL_FILE), (MODEL_FILE,), KEEP_PER_NAME)
    return folder / MODEL_FILE


def bert_shape(encoder) -> tuple[int, int] | None:
    """(heads, hidden size) for ONNX Runtime's BERT fusion, with the encoder switched to eager attention: the
    fusion recognises the eager attention pattern, not torch's scaled_dot_product_attention. None: not a BERT."""
    config = getattr(encoder, "config", None)
    if getattr(config, "model_type", None) != "bert":
        return None
    encoder.set_attn_implementation("eager")
    return config.num_attention_heads, config.hidden_size


def export_onnx(
    module, path: Path, output_names: list[str], quantize: bool, bert: tuple[int, int] | None = None,
    max_length: int = 16,
) -> None:
    """Trace ``module(input_ids, attention_mask)`` (batch and sequence dynamic) into ``path``. ``bert`` = (heads,
    hidden size) of a BERT encoder inside ``module``: its layers are fused into ONNX Runtime's BERT operators
    (attention, embedding + LayerNorm, bias + GELU, skip + LayerNorm). With ``quantize``, the matrix products
    (and fused attention's projections) become dynamic int8: weights per channel, activations per call."""
    import torch  # lazy: torch is heavy; only a missing graph is exported

    ids = torch.ones((2, max_length), dtype=torch.long)
    mask = torch.ones((2, max_length), dtype=torch.long)
    mask[1, max_length // 2 :] = 0  # a padded row, so that the mask is traced as data, not as a constant
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    dynamic |= {n: {0: "batch"} for n in output_names}
    fp32 = path.with_name("fp32.onnx") if quantize else path
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings about the TorchScript exporter
        torch.onnx.export(
            module.eval(), (ids, mask), str(fp32), input_names=["input_ids", "attention_mask"],
            output_names=output_names, dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
            do_constant_folding=True,
        )
    ops = ["MatMul"]
    if bert is not None:
        from onnxruntime.transformers import optimizer  # lazy: only exports fuse BERT layers

        fused = optimizer.optimize_model(str(fp32), model_type="bert", num_heads=bert[0], hidden_size=bert[1])
        fused.save_model_to_file(str(fp32))
        ops.append("Attention")
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic  # lazy: only exports quantise

        # Not Gather (the embedding table): no faster, less exact. The fused operators' outputs have no type for
        # the quantiser's shape inference: they are float.
        # The quantiser logs advice to the root logger on every call ("consider pre-processing"); it does not
        # apply to a graph the BERT optimiser has already fused.
        advice = _DropRecords("pre-processing before quantization")
        logging.getLogger().addFilter(advice)
        try:
            quantize_dynamic(
                str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=ops,
                extra_options={"DefaultTensorType": 1},
            )
        finally:
            logging.getLogger().removeFilter(advice)
        fp32.unlink()
