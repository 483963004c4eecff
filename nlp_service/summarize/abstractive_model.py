"""Which model the abstractive summariser runs and how it is loaded: the adapter folder's config, the base
model's local folder, and the base weights with the LoRA adapter merged in, stored once per dtype."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nlp_service.runtime.gguf_cache import gemma3_path, smollm2_path
from nlp_service.runtime.weights import WeightsNotFound, cached_folder, cpu_has_fp16, files_digest, quantize_int8
from nlp_service.summarize.abstractive_prompt import PromptFormat
from nlp_service.summarize.config import CONFIG_NAME

BASE_MODEL_NAME = "SmolLM2-135M-Instruct"
GEMMA3_NAME = "gemma-3-270m"  # the optional base-model alternative (a base model: no chat template)
SERVING_DTYPES = {"auto", "float32", "float16", "bfloat16"}


@dataclass
class AbstractiveConfig:
    """The adapter folder's config.json (written by training/train_summarizer.py)."""

    base_model: str = BASE_MODEL_NAME
    prompt: PromptFormat = field(default_factory=PromptFormat)
    num_beams: int = 1
    no_repeat_ngram_size: int = 3
    # Names and numbers only from the source: a token that starts a capitalised word or holds a digit may be
    # generated only if it occurs in what the model reads (SourceOnlyNames). Measured in docs/abstractive.md.
    source_names_only: bool = False
    # Candidates per article: beam search keeps this many finished abstracts (num_beams is raised to match) and
    # the first, in beam-score order, whose names and numbers all occur in the article (the rule, verify.check) is
    # kept; the best-scoring one where none passes. 1: the single decoded abstract. Measured in docs/abstractive.md.
    candidates: int = 1
    # Serving: dynamic int8 Linear layers (CPU) and prompts per generate() batch; measured in docs/abstractive.md.
    quantize: bool = False
    batch_size: int = 8
    # Weights and activations at serving: "auto" (float16 where the CPU computes it natively, float32 elsewhere,
    # where it is emulated and slower), "float32", "float16" or "bfloat16". float16 keeps float32's ROUGE at half
    # the memory; bfloat16 is 1.7x faster on AMX but loses 1-1.5 ROUGE-1 points. Measured in docs/abstractive.md.
    dtype: str = "auto"
    version: str = "abstractive-smollm2-135m-lora"
    extra: dict[str, Any] = field(default_factory=dict)  # training provenance and metrics, kept verbatim

    def __post_init__(self) -> None:
        if self.num_beams < 1 or self.candidates < 1:
            raise ValueError(f"num_beams and candidates must be at least 1, not {self.num_beams}, {self.candidates}")

    @property
    def beams(self) -> int:
        """Beams searched: enough to return ``candidates`` finished abstracts."""
        return max(self.num_beams, self.candidates)

    @classmethod
    def read(cls, folder: str | Path) -> AbstractiveConfig:
        d = json.loads((Path(folder) / CONFIG_NAME).read_text())
        known = {"base_model", "num_beams", "no_repeat_ngram_size", "source_names_only", "candidates", "quantize",
                 "batch_size", "dtype", "version"}
        return cls(
            prompt=PromptFormat.from_dict(d.get("prompt", {})),
            extra={k: v for k, v in d.items() if k not in known | {"prompt"}},
            **{k: d[k] for k in known if k in d},
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**d, **self.extra}

    def torch_dtype(self) -> Any:
        """The torch dtype ``dtype`` names on this machine."""
        import torch  # lazy: torch is heavy; reading a config must not load it

        if self.dtype not in SERVING_DTYPES:
            raise ValueError(f"dtype must be one of {sorted(SERVING_DTYPES)}, not {self.dtype!r}")
        name = ("float16" if cpu_has_fp16() else "float32") if self.dtype == "auto" else self.dtype
        return getattr(torch, name)


def resolve_base(name: str) -> Path:
    """A base-model name from a config → local folder (the packaged SmolLM2, converted once, or a path)."""
    if name in (BASE_MODEL_NAME, f"HuggingFaceTB/{BASE_MODEL_NAME}", "smollm2"):
        return smollm2_path()
    if name in (GEMMA3_NAME, f"google/{GEMMA3_NAME}", "gemma3"):
        return gemma3_path()
    path = Path(name)
    if path.is_dir():
        return path
    raise WeightsNotFound(f"unknown base model {name!r}: not the packaged SmolLM2 nor a local folder")


def merge_adapter(model: Any, folder: Path) -> Any:
    """``model`` with the LoRA adapter in ``folder`` merged into its weights (unchanged for a zero-shot config)."""
    if not (folder / "adapter_config.json").is_file():
        return model
    from peft import PeftModel  # lazy: peft is heavy; only the first load of an adapter merges it

    return PeftModel.from_pretrained(model, folder).merge_and_unload()


FULL_MODEL_DIR = "model"  # a fully fine-tuned decoder's weights (HF folder) inside the summariser's folder
MERGED_CACHE = "decoder"
KEEP_MERGED = 3  # merged models kept per adapter and dtype (~270 MB each in half precision)


def merged_decoder(base: Path, folder: Path, dtype: Any) -> Path:
    """A folder holding the base model with ``folder``'s adapter merged in, stored at ``dtype``:
    ``cache_dir()/decoder/<name>-<hash of the base and adapter files, dtype and torch version>/``, written on first
    use. The merge runs once in float32 and is rounded once; later loads map the stored weights directly, so a
    process never holds a float32 copy beside the serving one (half precision: 270 MB instead of ~1.2 GB at load)
    and skips peft."""
    import torch  # lazy: torch is heavy; only a model load needs it

    dtype_name = str(dtype).removeprefix("torch.")
    files = [p for p in (*base.glob("*"), *folder.glob("adapter_*")) if p.is_file()]
    digest = files_digest(files, f"merged-decoder|{dtype_name}|{torch.__version__}")

    def write(tmp: Path) -> None:
        from transformers import AutoModelForCausalLM  # lazy: transformers is heavy


        model = merge_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), folder)
        model.to(dtype).save_pretrained(tmp)

    needs = ("model.safetensors", "config.json")
    return cached_folder(MERGED_CACHE, f"{folder.name}-{dtype_name}", digest, write, needs, KEEP_MERGED)


def load_decoder(folder: Path, config: AbstractiveConfig, quantize: bool) -> tuple[Any, Any]:
    """(model, tokenizer) for the adapter in ``folder``: the merged weights at ``config.dtype``, or with
    ``quantize`` dynamic int8 Linear layers (CPU) made from float32 weights with the adapter merged in. A folder
    with a fully fine-tuned decoder (``folder/model/``, no adapter) loads those weights instead. The
    tokenizer pads on the left: in decoder-only batches, prompts end where generation starts."""
    # lazy: torch and transformers are heavy; the summariser loads them only when the abstractive method is used
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer  # lazy: transformers is heavy

    base = resolve_base(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.padding_side = "left"
    full = folder / FULL_MODEL_DIR
    if (full / "config.json").is_file():
        model = AutoModelForCausalLM.from_pretrained(full, dtype=torch.float32 if quantize else config.torch_dtype())
        return (quantize_int8(model.eval()) if quantize else model.eval()), tokenizer
    if quantize:
        model = merge_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), folder)
        return quantize_int8(model.eval()), tokenizer
    dtype = config.torch_dtype()
    return AutoModelForCausalLM.from_pretrained(merged_decoder(base, folder, dtype), dtype=dtype).eval(), tokenizer
