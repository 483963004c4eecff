"""Per-label decision thresholds on the calibrated probability, each the F1-optimal one on validation (labels
with too few validation positives share the threshold fitted on all labels pooled)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.decision.base import Rule
from nlp_service.decision.metrics import best_f1_threshold
from nlp_service.decision.state import DecisionGold, DecisionState


def fit_thresholds(p: np.ndarray, y: np.ndarray, mask: np.ndarray, min_class: int) -> list[float]:
    known = mask > 0
    pooled, _ = best_f1_threshold(p[known], y[known]) if known.any() else (0.5, 0.0)
    out = []
    for j in range(p.shape[1]):
        pj, yj = p[known[:, j], j], y[known[:, j], j]
        pos = int(yj.sum())
        t = best_f1_threshold(pj, yj)[0] if pos >= min_class and len(yj) - pos >= min_class else pooled
        out.append(round(float(t), 4))
    return out


def threshold_vector(group: str, labels: list[str], tuned: list[float], overrides: dict[str, float]) -> np.ndarray:
    """Tuned thresholds, overridden per label name or for a whole group ("themes", "regions")."""
    out = np.array(tuned, dtype=np.float32)
    if group in overrides:
        out[:] = overrides[group]
    for name, value in overrides.items():
        if name in labels:
            out[labels.index(name)] = value
    return out


@dataclass
class ThresholdSettings:
    min_class: int = 8


@dataclass
class ThresholdFitted:
    themes: list[float] = field(default_factory=list)
    regions: list[float] = field(default_factory=list)


class Thresholds(Rule):
    name = "thresholds"
    target = "themes"
    core = True
    why = "each label is reported from the score where it is most often right and complete on validation (F1)"
    Settings = ThresholdSettings
    Fitted = ThresholdFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        m = self.settings.min_class
        self.fitted = ThresholdFitted(
            fit_thresholds(state.theme_p, gold.theme_labels, gold.theme_mask, m),
            fit_thresholds(state.region_p, gold.region_labels, gold.region_mask, m),
        )

    def apply(self, state: DecisionState) -> None:
        i = state.inputs
        state.theme_on = state.theme_p >= threshold_vector("themes", i.themes, self.fitted.themes, state.overrides)
        state.region_on = state.region_p >= threshold_vector(
            "regions", i.regions, self.fitted.regions, state.overrides
        )

    def bypass(self, state: DecisionState) -> None:
        state.theme_on, state.region_on = state.theme_p >= 0.5, state.region_p >= 0.5
