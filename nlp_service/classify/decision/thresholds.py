"""Per-label decision thresholds on the calibrated probability, each the F1-optimal one on validation (labels
with too few validation positives share the threshold fitted on all labels pooled)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.metrics import best_f1_threshold, masked_micro_f1
from nlp_service.classify.decision.state import DecisionGold, DecisionState


def fit_thresholds(p: np.ndarray, y: np.ndarray, mask: np.ndarray, min_class: int, shrink: float = 0.0
                   ) -> list[float]:
    """Per-label F1-optimal thresholds; a label with ``pos`` validation positives gets its own threshold weighed
    ``pos : shrink`` against the pooled one (an F1 optimum over a dozen positives is mostly noise)."""
    known = mask > 0
    pooled, _ = best_f1_threshold(p[known], y[known]) if known.any() else (0.5, 0.0)
    out = []
    for j in range(p.shape[1]):
        pj, yj = p[known[:, j], j], y[known[:, j], j]
        pos = int(yj.sum())
        t = best_f1_threshold(pj, yj)[0] if pos >= min_class and len(yj) - pos >= min_class else pooled
        t = (pos * t + shrink * pooled) / (pos + shrink) if pos + shrink else t
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


# Pseudo-positives of the pooled threshold in each label's own (0 = every label on its own), chosen by 2-fold
# cross-validation on the validation split: on the gold set's 381 validation articles per-label optima over a
# dozen positives overfit (CV micro-F1 0.782 with none, 0.789 with 40). One threshold for all labels scored 0.795
# but ignores that themes differ in base rate: short clear stories of rare themes (an earthquake, a war report)
# fell under it, so the grid stops at 40.
SHRINK_GRID: tuple[float, ...] = (0.0, 10.0, 40.0)


@dataclass
class ThresholdSettings:
    min_class: int = 8
    shrink_grid: tuple[float, ...] = SHRINK_GRID
    cv_repeats: int = 5  # 2-fold splits of the validation articles, repeated with seeds 0..n-1


@dataclass
class ThresholdFitted:
    themes: list[float] = field(default_factory=list)
    regions: list[float] = field(default_factory=list)
    shrink: float = 0.0  # the theme shrinkage cross-validation chose


def cv_shrink(p: np.ndarray, y: np.ndarray, mask: np.ndarray, min_class: int, grid: tuple[float, ...],
              repeats: int) -> float:
    """The shrinkage whose thresholds, fitted on one half of the labelled articles, score best on the other."""
    rows = np.flatnonzero(mask.sum(1) > 0)
    if len(rows) < 4 * min_class or len(grid) == 1:
        return grid[0]
    scores = {k: [] for k in grid}
    for seed in range(repeats):
        perm = np.random.default_rng(seed).permutation(rows)
        halves = (perm[: len(perm) // 2], perm[len(perm) // 2 :])
        for fit_rows, eval_rows in (halves, halves[::-1]):
            for k in grid:
                t = np.array(fit_thresholds(p[fit_rows], y[fit_rows], mask[fit_rows], min_class, k))
                scores[k].append(masked_micro_f1(p[eval_rows] >= t, y[eval_rows], mask[eval_rows]))
    return max(grid, key=lambda k: (np.mean(scores[k]), -k))


class Thresholds(Rule):
    name = "thresholds"
    target = "themes"
    core = True
    why = "each label is reported from the score where it is most often right and complete on validation (F1)"
    Settings = ThresholdSettings
    Fitted = ThresholdFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        s = self.settings
        k = cv_shrink(state.theme_p, gold.theme_labels, gold.theme_mask, s.min_class, s.shrink_grid, s.cv_repeats)
        self.fitted = ThresholdFitted(
            fit_thresholds(state.theme_p, gold.theme_labels, gold.theme_mask, s.min_class, k),
            fit_thresholds(state.region_p, gold.region_labels, gold.region_mask, s.min_class),
            float(k),
        )

    def apply(self, state: DecisionState) -> None:
        i = state.inputs
        state.theme_on = state.theme_p >= threshold_vector("themes", i.themes, self.fitted.themes, state.overrides)
        state.region_on = state.region_p >= threshold_vector(
            "regions", i.regions, self.fitted.regions, state.overrides
        )

    def bypass(self, state: DecisionState) -> None:
        state.theme_on, state.region_on = state.theme_p >= 0.5, state.region_p >= 0.5
