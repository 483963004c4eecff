"""The topic model: a MiniLM encoder with LoRA adapters, mean pooling and two multi-label heads (IPTC themes, UN
M49 sub-regions), its masked loss, and how a checkpoint's model is built for training and for serving."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from nlp_service.classify.checkpoint import (
    ADAPTER_DIR,
    CALIBRATION_NAME,
    HEADS_NAME,
    LORA_TARGETS,
    CheckpointError,
    ClassifierConfig,
)
from nlp_service.classify.decision import DecisionPipeline
from nlp_service.classify.lexical import LexicalModel
from nlp_service.runtime.encoder import mean_pool
from nlp_service.runtime.weights import quantize_int8, resolve_base_model


def lora_targets(base_model: str) -> list[str]:
    """LoRA target modules for a base model name or folder, from its architecture."""
    from transformers import AutoConfig  # lazy: transformers is heavy; only training asks

    model_type = AutoConfig.from_pretrained(resolve_base_model(base_model)).model_type
    if model_type not in LORA_TARGETS:
        raise ValueError(f"no LoRA target modules known for {model_type!r} models; known: {sorted(LORA_TARGETS)}")
    return LORA_TARGETS[model_type]


class TopicModel(nn.Module):
    """Encoder + mean pooling + one linear head per label set. Returns logits (and a masked BCE loss)."""

    def __init__(self, encoder: nn.Module, hidden: int, n_themes: int, n_regions: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.theme_head = nn.Linear(hidden, n_themes)
        self.region_head = nn.Linear(hidden, n_regions)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        theme_labels: torch.Tensor | None = None,
        theme_mask: torch.Tensor | None = None,
        region_labels: torch.Tensor | None = None,
        region_mask: torch.Tensor | None = None,
        theme_weights: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        dropped = self.dropout(pooled)
        out = {
            "theme_logits": self.theme_head(dropped),
            "region_logits": self.region_head(dropped),
            "pooled": pooled,  # what the heads read; the theme-description similarity reuses it
        }
        if theme_labels is not None:
            out["loss"] = masked_bce(
                out["theme_logits"], theme_labels, theme_mask, theme_weights
            ) + masked_bce(out["region_logits"], region_labels, region_mask)
        return out

    def heads_state(self) -> dict[str, torch.Tensor]:
        return {f"theme_head.{k}": v for k, v in self.theme_head.state_dict().items()} | {
            f"region_head.{k}": v for k, v in self.region_head.state_dict().items()
        }


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Binary cross-entropy over known labels only: an unknown label (mask 0) adds nothing to the loss."""
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    w = mask if weights is None else mask * weights
    return (loss * w).sum() / w.sum().clamp(min=1.0)


def build_model(
    cfg: ClassifierConfig, adapter_dir: Path | None = None, trainable: bool = False
) -> TopicModel:
    """Base encoder from the installed package + LoRA (new, or loaded from ``adapter_dir``)."""
    from peft import LoraConfig, PeftModel, get_peft_model  # lazy: peft and transformers are heavy
    from transformers import AutoModel  # lazy: as above; a cached ONNX graph serves without them

    base = AutoModel.from_pretrained(resolve_base_model(cfg.base_model))
    if adapter_dir is not None:
        encoder = PeftModel.from_pretrained(base, adapter_dir, is_trainable=trainable)
    else:
        lora = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=cfg.target_modules,
            layers_to_transform=cfg.lora_layers,
        )
        encoder = get_peft_model(base, lora)
    return TopicModel(encoder, base.config.hidden_size, len(cfg.themes), len(cfg.regions), cfg.dropout)


def serving_model(model: TopicModel, quantize: str | None) -> TopicModel:
    """The model as inference runs it: LoRA merged into the base weights (one plain BERT forward), then with
    ``quantize="int8"`` dynamic int8 Linear layers. Training calibrates exactly this."""
    model.encoder = model.encoder.merge_and_unload()
    return quantize_int8(model) if quantize == "int8" else model


def load_topic_model(folder: Path, cfg: ClassifierConfig) -> TopicModel:
    """The checkpoint's torch model (base encoder + LoRA adapter + heads), LoRA not yet merged."""
    model = build_model(cfg, folder / ADAPTER_DIR)
    missing = model.load_state_dict(load_file(folder / HEADS_NAME), strict=False)
    if any(k.startswith(("theme_head", "region_head")) for k in missing.missing_keys):
        raise CheckpointError(f"{folder / HEADS_NAME}: head weights missing or mis-shaped")
    return model.eval()


def save_checkpoint(
    folder: Path,
    cfg: ClassifierConfig,
    model: TopicModel,
    decision: DecisionPipeline,
    lexical: LexicalModel | None = None,
) -> None:
    """Write every file of a checkpoint folder (the LoRA adapter unmerged, so training can resume from it)."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg.save(folder)
    model.encoder.save_pretrained(folder / ADAPTER_DIR)
    save_file({k: v.contiguous() for k, v in model.heads_state().items()}, folder / HEADS_NAME)
    decision.save(folder / CALIBRATION_NAME)
    if lexical is not None:
        lexical.save(folder)
