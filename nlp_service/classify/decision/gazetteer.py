"""Gazetteer evidence in the sub-region scores: the countries an article names (noisy-or per sub-region) added
to the region head's logits with a weight fitted for primary sub-region accuracy on validation."""

from __future__ import annotations

from dataclasses import dataclass

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.lexical import primary_accuracy
from nlp_service.classify.decision.state import DecisionGold, DecisionState


@dataclass
class GazetteerSettings:
    grid: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0)


@dataclass
class GazetteerFitted:
    weight: float = 0.0


class GazetteerRegions(Rule):
    name = "gazetteer_regions"
    target = "regions"
    why = "a region the article names is stronger evidence than the encoder's reading of its opening"
    Settings = GazetteerSettings
    Fitted = GazetteerFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        gaz = state.inputs.gazetteer
        self.fitted = GazetteerFitted(float(max(self.settings.grid,
                                                key=lambda w: primary_accuracy(state.region_z + w * gaz, gold))))

    def apply(self, state: DecisionState) -> None:
        state.region_z = state.region_z + self.fitted.weight * state.inputs.gazetteer
