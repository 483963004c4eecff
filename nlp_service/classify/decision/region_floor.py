"""The most likely sub-region stands from ``floor`` on, even under its tuned threshold: thresholds are tuned on
long multi-country news, where a region named in passing is common, and would otherwise hide the main region of
a short article. Stands aside when the caller overrides thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.state import DecisionState


@dataclass
class RegionFloorSettings:
    floor: float = 0.25


class PrimaryRegionFloor(Rule):
    name = "primary_region_floor"
    target = "regions"
    why = "a reader expects the main region of a short article even when its score is modest"
    Settings = RegionFloorSettings

    def apply(self, state: DecisionState) -> None:
        if state.overrides or not len(state.region_p):
            return
        rows = np.arange(len(state.region_p))
        top = state.region_p.argmax(1)
        state.region_on[rows, top] |= state.region_p[rows, top] >= self.settings.floor
