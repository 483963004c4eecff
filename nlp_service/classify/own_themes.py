"""Themes from a user's own label set ("markets", "football", "local politics"), in place of the IPTC themes.

``nlp-service train --taxonomy own`` (``training/train_own_themes.py``) fits one logistic head per label on the
pooled embedding of the shipped classifier's encoder, so an own-label checkpoint is small (a config and the heads)
and everything else (countries, regions, the encoder itself) is the shipped classifier's, which still runs: its
encoder pass gives both the shipped outputs and the embedding these heads read.

The folder holds config.json (``OwnThemesConfig``: ``"taxonomy": "own"``, the label names, their thresholds and
how each was fitted) and theme_heads.safetensors (``weight`` labels × features, ``bias`` labels). The label set
is the checkpoint's own: this module, not ``nlp_service.taxonomy``, owns those names.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from nlp_service.classify.decision import DEFAULT_TOP_K, cut_top_k
from nlp_service.classify.decision.thresholds import threshold_vector
from nlp_service.classify.tags import theme_tags
from nlp_service.records import Classification, ThemeTag

OWN_TAXONOMY = "own"
CONFIG_NAME = "config.json"
HEADS_NAME = "theme_heads.safetensors"
CODE_PREFIX = "own:"  # record codes of own labels, so they cannot be mistaken for IPTC's medtop: codes


@dataclass
class OwnThemesConfig:
    themes: list[str]
    thresholds: dict[str, float]  # label → threshold on the head's probability
    version: str
    taxonomy: str = OWN_TAXONOMY
    encoder: str = ""  # the shipped classifier version whose embedding the heads read
    threshold_source: dict[str, str] = field(default_factory=dict)  # label → "validation" or why not
    training: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path) -> OwnThemesConfig:
        raw = json.loads((folder / CONFIG_NAME).read_text())
        return cls(**raw)


def label_code(name: str) -> str:
    """``own:local-politics`` for "local politics"."""
    return CODE_PREFIX + (re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-") or "label")


def features(embedding: np.ndarray) -> np.ndarray:
    """What the heads read: the pooled embedding, L2-normalised (its scale varies with text length)."""
    norm = np.linalg.norm(embedding, axis=1, keepdims=True)
    return (embedding / np.maximum(norm, 1e-9)).astype(np.float32)


def head_probabilities(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(rows × labels) the logistic heads' probabilities on features ``x`` (training scores its folds with it)."""
    return 1.0 / (1.0 + np.exp(-(x @ weight.T + bias)))


class OwnThemeHeads:
    def __init__(self, cfg: OwnThemesConfig, weight: np.ndarray, bias: np.ndarray):
        if weight.shape[0] != len(cfg.themes) or bias.shape != (len(cfg.themes),):
            raise ValueError(f"theme heads of shape {weight.shape} do not fit {len(cfg.themes)} labels")
        self.cfg, self.weight, self.bias = cfg, weight, bias

    @classmethod
    def load(cls, folder: str | Path) -> OwnThemeHeads:
        folder = Path(folder)
        tensors = load_file(folder / HEADS_NAME)
        return cls(OwnThemesConfig.load(folder), tensors["weight"], tensors["bias"])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.cfg.save(folder)
        save_file({"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32)},
                  folder / HEADS_NAME)

    def probabilities(self, embedding: np.ndarray) -> np.ndarray:
        """(texts × labels) probability of each label."""
        return head_probabilities(features(embedding), self.weight, self.bias)

    def tags(self, p: np.ndarray, thresholds: dict[str, float] | None = None) -> list[ThemeTag]:
        """One text's labels at or above their thresholds (``thresholds`` overrides per label, or all with
        "themes", as for the IPTC themes), best first."""
        names = self.cfg.themes
        cut = threshold_vector("themes", names, [self.cfg.thresholds.get(n, 0.5) for n in names], thresholds or {})
        return theme_tags([(n, label_code(n)) for n in names], p, np.flatnonzero(p >= cut))


class OwnThemeClassifier:
    """The shipped classifier's countries and regions, with themes from the own-label heads."""

    def __init__(self, base: Any, heads: OwnThemeHeads):
        self.base = base
        self.heads = heads
        self.version = f"{heads.cfg.version} (on {base.version})"

    def classify(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = DEFAULT_TOP_K,
        explain: bool = False,
    ) -> list[Classification]:
        """Records for ``texts``. Threshold names of own labels (and "themes") set the own heads; the rest go to
        the shipped classifier. ``explain`` has no evidence to give for own labels."""
        thresholds = thresholds or {}
        own = {k: v for k, v in thresholds.items() if k in self.heads.cfg.themes or k == "themes"}
        rest = {k: v for k, v in thresholds.items() if k not in own}
        records, state = self.base.classify_with_state(texts, rest or None, top_k, explain=False)
        p = self.heads.probabilities(state.inputs.embedding)
        out = []
        for i, record in enumerate(records):
            # The heads read the same English-trained encoder: the shipped classifier's language rule holds.
            themes = [] if self.base.themes_skipped(state.inputs.languages[i]) else self.heads.tags(p[i], own)
            out.append(Classification(record.countries, record.regions, cut_top_k(themes, top_k),
                                      list(record.warnings)))
        return out
