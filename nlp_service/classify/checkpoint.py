"""A classifier checkpoint folder: its file names, its config (``ClassifierConfig``), reading its decision pipeline
(``model.save_checkpoint`` writes the whole folder).

A checkpoint folder holds: config.json (ClassifierConfig), adapter/ (peft LoRA adapter), heads.safetensors,
calibration.json (the decision pipeline: each rule's settings and fitted values), lexical expert, metrics.json,
README.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nlp_service.classify.decision import DEFAULT_POOLING, DecisionPipeline
from nlp_service.taxonomy import load_taxonomy

CONFIG_NAME = "config.json"
HEADS_NAME = "heads.safetensors"
CALIBRATION_NAME = "calibration.json"
ADAPTER_DIR = "adapter"

# Attention and feed-forward projections LoRA adapts, by architecture (MPNet names its attention q/k/v/o).
LORA_TARGETS = {"bert": ["query", "key", "value", "dense"], "mpnet": ["q", "k", "v", "o", "dense"]}


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be used; the message names the file and what is wrong."""


@dataclass
class ClassifierConfig:
    base_model: str = "all-MiniLM-L6-v2"
    themes: list[str] = field(default_factory=lambda: load_taxonomy().theme_names)
    regions: list[str] = field(default_factory=lambda: load_taxonomy().region_names)
    max_length: int = 256  # tokens per chunk (MiniLM was trained at ≤ 256)
    max_chunks: int = 4  # long articles: this many chunks are read and their logits pooled (chunk_aggregation)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGETS["bert"]))
    # Adapt only the top layers: gradients then stop there, which makes a CPU training step ~2x cheaper.
    lora_layers: list[int] | None = field(default_factory=lambda: [3, 4, 5])
    dropout: float = 0.1
    version: str = "untrained"
    # "int8": dynamic int8 quantisation of the Linear layers at load (CPU; ~1.4x faster, decisions recalibrated).
    quantize: str | None = None
    # Which themes had gold labels, weak (cue-word) labels, or none in training: reported to users per theme.
    theme_supervision: dict[str, str] = field(default_factory=dict)
    # How a long article's chunk logits are pooled (nlp_service.classify.decision.chunk_pooling).
    chunk_aggregation: str = DEFAULT_POOLING
    # Languages the theme heads were trained and measured in (ISO 639-1): a text confidently in another gets no
    # themes and a warning; countries and regions are still reported (docs/classifier.md, "Languages").
    theme_languages: list[str] = field(default_factory=lambda: ["en"])

    def save(self, folder: Path) -> None:
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> ClassifierConfig:
        path = folder / CONFIG_NAME
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path}: cannot read classifier config ({exc})") from exc
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known - {"kind"}
        if unknown:
            raise CheckpointError(f"{path}: unknown config keys {sorted(unknown)}")
        raw.pop("kind", None)
        cfg = cls(**raw)
        if cfg.quantize not in (None, "int8"):
            raise CheckpointError(f"{path}: quantize must be null or \"int8\", not {cfg.quantize!r}")
        tax = load_taxonomy()
        bad = [t for t in cfg.themes if t not in tax.theme_names] + [
            r for r in cfg.regions if r not in tax.region_names
        ]
        if bad:
            raise CheckpointError(f"{path}: labels unknown to the taxonomy: {bad}")
        return cfg


def check_complete(folder: Path) -> None:
    """Refuse a folder without the model's own files (heads and adapter) before anything is loaded."""
    for needed in (HEADS_NAME, f"{ADAPTER_DIR}/adapter_config.json"):
        if not (folder / needed).is_file():
            raise CheckpointError(f"{folder / needed} is missing: not a complete classifier checkpoint")


def load_decision(folder: Path, cfg: ClassifierConfig) -> DecisionPipeline:
    """The checkpoint's decision pipeline (``calibration.json``), checked against the config's labels."""
    path = folder / CALIBRATION_NAME
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: the checkpoint has no calibration/thresholds")
    try:
        pipeline = DecisionPipeline.from_dict(json.loads(path.read_text()))
        pipeline.check_shapes(len(cfg.themes), len(cfg.regions))
    except (ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    return pipeline
