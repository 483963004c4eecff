"""The summariser checkpoint's config: ``<checkpoints>/summarizer/config.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nlp_service.summarize.extractive import ExtractiveParams

CONFIG_NAME = "config.json"
METHODS = ("extractive", "abstractive", "lead")


@dataclass
class SummarizerConfig:
    default_method: str = "extractive"  # what ``method=None`` means; set from the measured comparison
    max_words: int = 45  # default length cap, in words
    extractive: ExtractiveParams = field(default_factory=ExtractiveParams)
    abstractive_dir: str = "abstractive"  # sub-folder with the LoRA adapter and its config.json
    version: str = "summarizer-extractive-minilm-1"
    extra: dict[str, Any] = field(default_factory=dict)  # provenance (tuning results), kept verbatim

    def __post_init__(self) -> None:
        if self.default_method not in ("extractive", "abstractive", "lead"):
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
