"""The ordered pipeline of decision rules, its fitting (each rule on what the rules before it made of the
validation inputs, through the same ``apply`` serving runs), its ablation on held-out folds, and its file format."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
from nlp_service.classify.decision.state import (
    DecisionGold,
    DecisionInputs,
    DecisionState,
    join_gold,
    join_states,
    take_gold,
    take_inputs,
)
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
# That gain is measured on articles the rules were not fitted on: the validation articles are dealt into this many
# folds, the pipeline is fitted on all folds but one and ablated on the one left out, and a rule's gain is the mean
# over the folds. Measured on the articles it was fitted on, a rule that only fits their noise shows a gain it
# will not have on new articles. Five folds fit each fold's rules on 80 % of the articles, close to what the final
# fit (on all of them, kept) sees, at five more fits of the pipeline.
PRUNE_FOLDS = 5
FOLD_SEED = 0  # the folds are one fixed shuffle of the articles: the same data always keeps the same rules


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
            training_rows: tuple[DecisionInputs, DecisionGold] | None = None,
            folds: int = PRUNE_FOLDS) -> list[Ablation]:
        """Fit every rule in order on all the articles, measure each one's gain on held-out folds
        (``held_out_ablation``) and (``prune``) switch off the optional rules that do not help their target metric
        there. ``training_rows`` (fully labelled training articles) join the validation articles for the rules that
        may fit on them; gains are measured on validation only."""
        self.fit_rules(inputs, gold, training_rows)
        ablations = self.held_out_ablation(inputs, gold, training_rows, folds)
        for ab in ablations:
            rule = self.rule(ab.rule)
            rule.gain = ab.gain
            if prune and not rule.core and ab.gain < MIN_GAIN:
                rule.enabled = False
        return ablations

    def fit_rules(self, inputs: DecisionInputs, gold: DecisionGold,
                  training_rows: tuple[DecisionInputs, DecisionGold] | None = None) -> None:
        """Fit every rule, switched on, on what the rules before it made of the inputs."""
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

    def held_out_ablation(self, inputs: DecisionInputs, gold: DecisionGold,
                          training_rows: tuple[DecisionInputs, DecisionGold] | None = None,
                          folds: int = PRUNE_FOLDS) -> list[Ablation]:
        """Each rule's ablation, averaged over ``folds`` folds of the articles: a copy of the pipeline (same
        settings) is fitted on the other folds and ablated on the one held out. With fewer than two folds (or
        articles) the ablation is measured on the articles themselves, with the rules as fitted."""
        folds = min(folds, len(inputs))
        if folds < 2:
            return self.ablate(inputs, gold)
        order = np.random.default_rng(FOLD_SEED).permutation(len(inputs))
        per_fold = []
        for held in np.array_split(order, folds):
            held, rest = np.sort(held), np.setdiff1d(order, held)  # each in the articles' own order
            fold = DecisionPipeline([type(r)(copy.deepcopy(r.settings)) for r in self.rules])
            fold.fit_rules(take_inputs(inputs, rest), take_gold(gold, rest), training_rows)
            per_fold.append(fold.ablate(take_inputs(inputs, held), take_gold(gold, held)))
        return [Ablation(first.rule, first.target, first.metric,
                         round(float(np.mean([f[k].with_rule for f in per_fold])), 4),
                         round(float(np.mean([f[k].without_rule for f in per_fold])), 4))
                for k, first in enumerate(per_fold[0])]

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
        """A stored pipeline (``to_dict``)."""
        if raw.get("format") != FORMAT:
            raise ValueError(f"not a decision pipeline (format {raw.get('format')!r}, expected {FORMAT!r})")
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

