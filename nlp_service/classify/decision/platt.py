"""Per-label Platt scaling: p = σ(a·z + b) on each label's logit, so a reported score is the label's chance of
being right. Labels with too few validation positives (or negatives) share one scaler fitted on all labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule, sigmoid
from nlp_service.classify.decision.state import DecisionGold, DecisionState


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression  # lazy: fitting only; serving never loads scikit-learn

    lr = LogisticRegression(C=100.0, max_iter=1000).fit(z.reshape(-1, 1), y.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_scalers(z: np.ndarray, y: np.ndarray, mask: np.ndarray, min_class: int) -> tuple[list[float], list[float]]:
    known = mask > 0
    zk, yk = z[known], y[known]
    pooled = platt(zk, yk) if 0 < yk.sum() < len(yk) else (1.0, 0.0)
    a_out, b_out = [], []
    for j in range(z.shape[1]):
        zj, yj = z[known[:, j], j], y[known[:, j], j]
        pos = int(yj.sum())
        a, b = platt(zj, yj) if pos >= min_class and len(yj) - pos >= min_class else pooled
        a_out.append(round(a, 6))
        b_out.append(round(b, 6))
    return a_out, b_out


@dataclass
class PlattSettings:
    min_class: int = 8  # below this many positives or negatives a label borrows the pooled scaler


@dataclass
class PlattFitted:
    theme_a: list[float] = field(default_factory=list)
    theme_b: list[float] = field(default_factory=list)
    region_a: list[float] = field(default_factory=list)
    region_b: list[float] = field(default_factory=list)


class PlattScaling(Rule):
    name = "platt"
    target = "themes"
    core = True
    why = "logits become probabilities a user can read as the chance a tag is right"
    Settings = PlattSettings
    Fitted = PlattFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        m = self.settings.min_class
        ta, tb = fit_scalers(state.theme_z, gold.theme_labels, gold.theme_mask, m)
        ra, rb = fit_scalers(state.region_z, gold.region_labels, gold.region_mask, m)
        self.fitted = PlattFitted(ta, tb, ra, rb)

    def apply(self, state: DecisionState) -> None:
        f = self.fitted
        state.theme_p = sigmoid(state.theme_z * np.array(f.theme_a) + np.array(f.theme_b))
        state.region_p = sigmoid(state.region_z * np.array(f.region_a) + np.array(f.region_b))

    def bypass(self, state: DecisionState) -> None:
        state.theme_p, state.region_p = sigmoid(state.theme_z), sigmoid(state.region_z)
