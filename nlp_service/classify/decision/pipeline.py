"""The ordered pipeline of decision rules, its fitting (each rule on what the rules before it made of the
validation inputs, through the same ``apply`` serving runs), its ablation, and its file format."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.countries import CountryRule
from nlp_service.classify.decision.country_relevance import CountryRelevance, RegionsFromCountries
from nlp_service.classify.decision.cues import CueScore
from nlp_service.classify.decision.description import DescriptionRule
from nlp_service.classify.decision.gazetteer import GazetteerRegions
from nlp_service.classify.decision.lexical import LexicalBlend, primary_accuracy
from nlp_service.classify.decision.metrics import masked_micro_f1, set_f1
from nlp_service.classify.decision.platt import PlattScaling
from nlp_service.classify.decision.prior import PriorShift
from nlp_service.classify.decision.region_floor import PrimaryRegionFloor
from nlp_service.classify.decision.state import DecisionGold, DecisionInputs, DecisionState, join_gold, join_states
from nlp_service.classify.decision.thresholds import Thresholds

FORMAT = "decision-pipeline"
FORMAT_VERSION = 1

# In order: logits are blended (lexical, gazetteer), scaled to probabilities (Platt), corrected (prior shift),
# raised by the rules for weakly supervised themes (cues, description), cut by thresholds; regions get their
# floor; countries are chosen (mention damping, then the learned relevance model over it where it helps), and
# finally regions follow the reported countries.
RULE_TYPES: tuple[type[Rule], ...] = (
    LexicalBlend,
    GazetteerRegions,
    PlattScaling,
    PriorShift,
    CueScore,
    DescriptionRule,
    Thresholds,
    PrimaryRegionFloor,
    CountryRule,
    CountryRelevance,
    RegionsFromCountries,
)
_BY_NAME = {r.name: r for r in RULE_TYPES}
# An optional rule stays on only if it raises its validation metric by at least this much: smaller gains are
# within what re-drawing a few hundred validation articles moves (one article is ~0.1 point of theme micro-F1).
MIN_GAIN = 0.002


def default_rules() -> list[Rule]:
    return [kind() for kind in RULE_TYPES]


@dataclass
class Ablation:
    rule: str
    target: str
    metric: str
    with_rule: float
    without_rule: float

    @property
    def gain(self) -> float:
        return round(self.with_rule - self.without_rule, 4)


def target_metric(target: str, state: DecisionState, gold: DecisionGold) -> tuple[str, float]:
    """What a rule's ablation measures: theme micro-F1, sub-region (primary accuracy + micro-F1) / 2, or
    country micro-F1."""
    if target == "themes":
        return "theme micro-F1", masked_micro_f1(state.theme_on, gold.theme_labels, gold.theme_mask)
    if target == "regions":
        f1 = masked_micro_f1(state.region_on, gold.region_labels, gold.region_mask)
        return "sub-region (primary accuracy + micro-F1) / 2", (primary_accuracy(state.region_p, gold) + f1) / 2
    known = [k for k, g in enumerate(gold.countries) if g is not None]
    pred = [{c for c, _ in state.countries[k]} for k in known]
    return "country micro-F1", set_f1(pred, [gold.countries[k] for k in known])["f1"] if known else 0.0


class DecisionPipeline:
    def __init__(self, rules: list[Rule]):
        self.rules = rules

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    def apply(
        self, inputs: DecisionInputs, overrides: dict[str, float] | None = None, skip: Iterable[str] = ()
    ) -> DecisionState:
        state = DecisionState.start(inputs, overrides)
        skip = set(skip)
        for rule in self.rules:
            if rule.enabled and rule.name not in skip:
                rule.apply(state)
            else:
                rule.bypass(state)
        return state

    def fit(self, inputs: DecisionInputs, gold: DecisionGold, prune: bool = True,
            training_rows: tuple[DecisionInputs, DecisionGold] | None = None) -> list[Ablation]:
        """Fit every rule in order, then measure each one's gain on the same data and (``prune``) switch off the
        optional rules that do not help their target metric. ``training_rows`` (fully labelled training articles)
        join the validation articles for the rules that may fit on them; gains are measured on validation only."""
        state = DecisionState.start(inputs)
        extra = DecisionState.start(training_rows[0]) if training_rows else None
        for rule in self.rules:
            rule.enabled = True
            if extra is not None and rule.fits_on_training_rows:
                rule.fit(join_states(state, extra), join_gold(gold, training_rows[1]))
            else:
                rule.fit(state, gold)
            rule.apply(state)
            if extra is not None:
                rule.apply(extra)
        ablations = self.ablate(inputs, gold)
        for ab in ablations:
            rule = self.rule(ab.rule)
            rule.gain = ab.gain
            if prune and not rule.core and ab.gain < MIN_GAIN:
                rule.enabled = False
        return ablations

    def ablate(self, inputs: DecisionInputs, gold: DecisionGold) -> list[Ablation]:
        """Each rule's target metric with the pipeline as it is, and with that rule bypassed."""
        full = self.apply(inputs)
        out = []
        for rule in self.rules:
            metric, with_rule = target_metric(rule.target, full, gold)
            if not rule.enabled:
                with_rule = target_metric(rule.target, self._with(inputs, rule.name), gold)[1]
            _, without = target_metric(rule.target, self.apply(inputs, skip={rule.name}), gold)
            out.append(Ablation(rule.name, rule.target, metric, round(with_rule, 4), round(without, 4)))
        return out

    def _with(self, inputs: DecisionInputs, name: str) -> DecisionState:
        rule = self.rule(name)
        rule.enabled = True
        try:
            return self.apply(inputs)
        finally:
            rule.enabled = False

    # -- storage -------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "rules": [r.to_dict() for r in self.rules]}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DecisionPipeline:
        """A stored pipeline; a calibration file written before the pipeline existed is read into one."""
        if raw.get("format") != FORMAT:
            return cls(legacy_rules(raw))
        if raw.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {raw.get('format_version')!r} is not {FORMAT_VERSION}")
        stored: dict[str, Rule] = {}
        for item in raw.get("rules", []):
            kind = _BY_NAME.get(item.get("name"))
            if kind is None:
                raise ValueError(f"unknown decision rule {item.get('name')!r}; known: {', '.join(_BY_NAME)}")
            try:
                stored[kind.name] = kind.from_dict(item)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"decision rule {kind.name!r}: {exc}") from None
        order = [r.name for r in RULE_TYPES]
        names = [item.get("name") for item in raw.get("rules", [])]
        if names != [n for n in order if n in stored]:
            raise ValueError(f"rules {names} are not in the pipeline's order {order}")
        for core in (r.name for r in RULE_TYPES if r.core):
            if core not in stored:
                raise ValueError(f"the core rule {core!r} is missing")
        # A rule added after the file was written loads switched off, so the file's decisions stay as they were.
        return cls([stored.get(kind.name) or kind(enabled=False) for kind in RULE_TYPES])

    def check_shapes(self, n_themes: int, n_regions: int) -> None:
        p, t = self.rule("platt").fitted, self.rule("thresholds").fitted
        if {len(p.theme_a), len(p.theme_b), len(t.themes)} != {n_themes} or {
            len(p.region_a), len(p.region_b), len(t.regions)
        } != {n_regions}:
            raise ValueError("label counts do not match config.json")

    def summary(self) -> list[dict[str, Any]]:
        """One line per rule for reports and the model card."""
        return [{"rule": r.name, "version": r.version, "enabled": r.enabled, "gain": r.gain, "why": r.why}
                for r in self.rules]


def legacy_rules(raw: dict[str, Any]) -> list[Rule]:
    """The rules a pre-pipeline calibration.json (one flat object) describes, with the same behaviour."""
    from nlp_service.classify.decision import countries, cues, description, gazetteer, lexical, platt, prior, thresholds

    try:
        return [
            LexicalBlend(fitted=lexical.LexicalFitted(raw.get("lexical_theme_weight", 0.0),
                                                      raw.get("lexical_region_weight", 0.0))),
            GazetteerRegions(fitted=gazetteer.GazetteerFitted(raw.get("gaz_weight", 0.0))),
            PlattScaling(fitted=platt.PlattFitted(raw["theme_a"], raw["theme_b"], raw["region_a"], raw["region_b"])),
            PriorShift(fitted=prior.PriorFitted(dict(raw.get("theme_prior_shift") or {}))),
            CueScore(fitted=cues.CueFitted(list(raw.get("cue_themes") or []), list(raw.get("cue_scores") or []),
                                           int(raw.get("cue_min_hits", 0)))),
            DescriptionRule(
                description.DescriptionSettings(min_cues=int(raw.get("description_min_cues", 1))),
                description.DescriptionFitted(list(raw.get("description_themes") or []),
                                              float(raw.get("description_threshold", 0.0)),
                                              float(raw.get("description_score", 0.0))),
            ),
            Thresholds(fitted=thresholds.ThresholdFitted(raw["theme_thresholds"], raw["region_thresholds"])),
            PrimaryRegionFloor(PrimaryRegionFloor.Settings(float(raw.get("primary_region_floor", 0.25)))),
            CountryRule(countries.CountrySettings(mention_floor=float(raw.get("country_mention_floor", 0.3))),
                        countries.CountryFitted(float(raw.get("country_threshold", 0.5)))),
            CountryRelevance(enabled=False),  # did not exist then
            RegionsFromCountries(enabled=False),
        ]
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]!r}") from None
