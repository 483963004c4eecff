"""Countries: a mentioned country's score is its gazetteer mention score damped by its sub-region's probability
(√(mention · region)), reported from a threshold fitted for country micro-F1 on validation; in each reported
sub-region its best-mentioned country also stands (from ``mention_floor``), unless thresholds are overridden."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.metrics import set_f1
from nlp_service.classify.decision.state import DecisionGold, DecisionState
from nlp_service.places import CountryMention
from nlp_service.taxonomy import load_taxonomy


@dataclass
class CountrySettings:
    mention_floor: float = 0.3
    grid: tuple[float, ...] = tuple(round(float(x), 3) for x in np.arange(0.05, 0.96, 0.025))


@dataclass
class CountryFitted:
    threshold: float = 0.5


def country_scores(mentions: list[CountryMention], region_p: np.ndarray, regions: list[str]) -> list[tuple[str, float]]:
    """Mentioned countries, best first, each scored √(mention score × its sub-region's probability)."""
    tax = load_taxonomy()
    index = {r: j for j, r in enumerate(regions)}
    out = []
    for m in mentions:
        region = tax.region_of(m.code)
        rp = region_p[index[region.name]] if region and region.name in index else 0.5
        out.append((m.code, float(np.sqrt(m.score * rp))))
    return sorted(out, key=lambda x: -x[1])


class CountryRule(Rule):
    name = "countries"
    target = "countries"
    core = True
    why = "a country the classifier's region view rejects is demoted; a reported region keeps its best country"
    Settings = CountrySettings
    Fitted = CountryFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        i = state.inputs
        known = [k for k, g in enumerate(gold.countries) if g is not None]
        if not known:
            return
        scored = [country_scores(i.mentions[k], state.region_p[k], i.regions) for k in known]
        truth = [gold.countries[k] for k in known]
        self.fitted = CountryFitted(float(max(
            self.settings.grid,
            key=lambda t: set_f1([{c for c, s in sc if s >= t} for sc in scored], truth)["f1"],
        )))

    def apply(self, state: DecisionState) -> None:
        i = state.inputs
        tax = load_taxonomy()
        t = state.overrides.get("countries", self.fitted.threshold)
        out = []
        for k, ms in enumerate(i.mentions):
            scored = country_scores(ms, state.region_p[k], i.regions)
            keep = {code for code, score in scored if score >= t}
            if not state.overrides:
                by_code = {m.code: m for m in ms}
                reported = {i.regions[j] for j in np.flatnonzero(state.region_on[k])}
                for region in reported:
                    best = next((code for code, _ in scored if by_code[code].score >= self.settings.mention_floor
                                 and (r := tax.region_of(code)) and r.name == region), None)
                    if best:
                        keep.add(best)
            out.append([(code, score) for code, score in scored if code in keep])
        state.countries = out

    def bypass(self, state: DecisionState) -> None:
        state.countries = [[(m.code, m.score) for m in ms if m.score >= 0.5] for ms in state.inputs.mentions]
