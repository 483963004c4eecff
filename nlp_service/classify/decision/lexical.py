"""The TF-IDF expert's logits added to the transformer's: it reads every paragraph for almost nothing, where the
encoder reads the opening only, and its errors differ. Its weights are fitted on validation (0 = off)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlp_service.classify.decision.base import Rule, sigmoid
from nlp_service.classify.decision.metrics import masked_micro_f1
from nlp_service.classify.decision.platt import fit_scalers
from nlp_service.classify.decision.state import DecisionGold, DecisionState
from nlp_service.classify.decision.thresholds import fit_thresholds


@dataclass
class LexicalSettings:
    grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
    min_class: int = 8


@dataclass
class LexicalFitted:
    theme_weight: float = 0.0
    region_weight: float = 0.0


def theme_f1_after_scaling(z: np.ndarray, gold: DecisionGold, min_class: int) -> float:
    """Theme micro-F1 once scalers and thresholds are fitted on ``z`` (how the later rules would use it)."""
    a, b = fit_scalers(z, gold.theme_labels, gold.theme_mask, min_class)
    p = sigmoid(z * np.array(a) + np.array(b))
    t = fit_thresholds(p, gold.theme_labels, gold.theme_mask, min_class)
    return masked_micro_f1(p >= np.array(t), gold.theme_labels, gold.theme_mask)


def primary_accuracy(z: np.ndarray, gold: DecisionGold) -> float:
    has = gold.primary_region >= 0
    return float((z.argmax(1)[has] == gold.primary_region[has]).mean()) if has.any() else 0.0


class LexicalBlend(Rule):
    name = "lexical_blend"
    target = "themes"
    why = "a bag-of-words view of the whole article corrects an encoder that reads only its opening"
    Settings = LexicalSettings
    Fitted = LexicalFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        i = state.inputs
        if i.lexical_theme is None:
            self.fitted = LexicalFitted()
            return
        s = self.settings
        wt = max(s.grid, key=lambda w: theme_f1_after_scaling(state.theme_z + w * i.lexical_theme, gold, s.min_class))
        wr = max(s.grid, key=lambda w: primary_accuracy(state.region_z + w * i.lexical_region, gold))
        self.fitted = LexicalFitted(float(wt), float(wr))

    def apply(self, state: DecisionState) -> None:
        i = state.inputs
        if i.lexical_theme is not None:
            state.theme_z = state.theme_z + self.fitted.theme_weight * i.lexical_theme
            state.region_z = state.region_z + self.fitted.region_weight * i.lexical_region
