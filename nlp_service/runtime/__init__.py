"""Running the models: where the packaged base weights are (``weights``), the one-time conversions kept in the
cache (``onnx_cache``, ``gguf_cache``), ONNX Runtime sessions (``onnx_model``: ``RuntimeOptions``, ``OnnxModel``),
the encoders' tokenizer and sentence encoder (``tokenizer``, ``encoder``), the checkpoint checks before a load
(``checkpoints``) and the command line's logging (``logs``).

Only the weights' names are re-exported here: they need the standard library alone, while the other modules load
numpy, tokenizers or torch, and the CLI's ``--help`` imports this package (for ``logs``)."""

from nlp_service.runtime.weights import WeightsNotFound, cache_dir, minilm_path, package_dir, resolve_base_model

__all__ = ["WeightsNotFound", "cache_dir", "minilm_path", "package_dir", "resolve_base_model"]
