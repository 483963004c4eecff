"""The decision pipeline: rules in a fixed order, fitted through the same apply serving runs, stored with fitted
values apart from settings, and pruned when they do not help on articles they were not fitted on."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from nlp_service.classify.decision import MIN_GAIN, RULE_TYPES, DecisionPipeline, DecisionState, default_rules
from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.country_relevance import CountryRelevance, RegionsFromCountries, first_named_first
from nlp_service.classify.decision.prior import PriorShift
from nlp_service.places import CountryMention
from tests.decision_data import synthetic_inputs

THEMES = ["politics", "sport", "weather"]
REGIONS = ["Eastern Africa", "Northern Europe"]


@pytest.fixture(scope="module")
def fitted_once():
    rng = np.random.default_rng(1)
    inputs, gold, _ = synthetic_inputs(300, THEMES, REGIONS, rng)
    pipeline = DecisionPipeline(default_rules())
    ablations = pipeline.fit(inputs, gold)
    return pipeline, inputs, gold, ablations


@pytest.fixture()
def fitted(fitted_once):
    return copy.deepcopy(fitted_once)  # tests change the pipeline; the fit (folds and all) runs once


def test_rules_run_in_their_documented_order_and_each_names_why():
    names = [r.name for r in default_rules()]
    assert names[:3] == ["lexical_blend", "gazetteer_regions", "platt"]
    assert names.index("platt") < names.index("thresholds") < names.index("countries")
    assert all(r.why and r.target in {"themes", "regions", "countries"} for r in RULE_TYPES)


def test_fitted_pipeline_round_trips_through_its_file(fitted, tmp_path):
    pipeline, inputs, _, _ = fitted
    path = tmp_path / "calibration.json"
    pipeline.save(path)
    raw = json.loads(path.read_text())
    assert raw["format"] == "decision-pipeline"
    platt = next(r for r in raw["rules"] if r["name"] == "platt")
    assert set(platt) == {"name", "version", "enabled", "gain", "settings", "fitted"}
    assert platt["settings"] == {"min_class": 8} and len(platt["fitted"]["theme_a"]) == 3
    again = DecisionPipeline.from_dict(raw)
    a, b = pipeline.apply(inputs), again.apply(inputs)
    assert np.array_equal(a.theme_on, b.theme_on) and np.allclose(a.theme_p, b.theme_p)


def test_fit_measures_each_rule_and_switches_off_those_that_do_not_help(fitted):
    pipeline, _, _, ablations = fitted
    by_rule = {a.rule: a for a in ablations}
    assert set(by_rule) == {r.name for r in RULE_TYPES}
    # no cue words, no descriptions, no gazetteer evidence here: those rules cannot help and are stored off
    for name in ("cue_score", "description", "gazetteer_regions"):
        assert not pipeline.rule(name).enabled and by_rule[name].gain == 0.0
    assert pipeline.rule("platt").enabled and pipeline.rule("thresholds").enabled  # core rules stay
    assert all(pipeline.rule(a.rule).gain == a.gain for a in ablations)


def test_a_switched_off_rule_changes_nothing(fitted):
    pipeline, inputs, _, _ = fitted
    prior = pipeline.rule("prior_shift")
    prior.fitted.themes = {"politics": -3.0}
    prior.enabled = False
    base = pipeline.apply(inputs)
    prior.enabled = True
    shifted = pipeline.apply(inputs)
    assert (shifted.theme_p[:, 0] < base.theme_p[:, 0]).all()
    assert np.allclose(shifted.theme_p[:, 1:], base.theme_p[:, 1:])


def test_prior_shift_goes_to_majority_themes_only():
    rng = np.random.default_rng(0)
    inputs, gold, state = synthetic_inputs(4, THEMES, REGIONS, rng)
    gold.theme_labels[:] = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0]])
    gold.theme_mask[:, 2] = 0  # weather is never known
    rule = PriorShift()
    rule.fit(state, gold)
    assert rule.fitted.themes == {"politics": rule.settings.shift}
    gold.theme_labels[:] = 0
    rule.fit(state, gold)
    assert rule.fitted.themes == {}


def test_a_rule_added_after_the_file_was_written_loads_switched_off(fitted):
    pipeline, inputs, _, _ = fitted
    raw = pipeline.to_dict()
    raw["rules"] = [r for r in raw["rules"] if r["name"] != "country_relevance"]
    again = DecisionPipeline.from_dict(raw)
    assert not again.rule("country_relevance").enabled
    assert [r.name for r in again.rules] == [r.name for r in RULE_TYPES]


def test_overridden_thresholds_are_taken_literally(fitted):
    pipeline, inputs, _, _ = fitted
    everything = pipeline.apply(inputs, {"themes": 0.0, "regions": 0.0})
    assert everything.theme_on.all() and everything.region_on.all()
    nothing = pipeline.apply(inputs, {"themes": 1.01, "regions": 1.01})
    assert not nothing.theme_on.any() and not nothing.region_on.any()  # the region floor stands aside


def test_unreadable_pipelines_name_the_problem(fitted):
    pipeline, _, _, _ = fitted
    raw = pipeline.to_dict()
    raw["rules"][0]["name"] = "magic"
    with pytest.raises(ValueError, match="unknown decision rule 'magic'"):
        DecisionPipeline.from_dict(raw)
    raw = pipeline.to_dict()
    raw["rules"] = raw["rules"][::-1]
    with pytest.raises(ValueError, match="order"):
        DecisionPipeline.from_dict(raw)
    raw = pipeline.to_dict()
    raw["rules"] = [r for r in raw["rules"] if r["name"] != "thresholds"]
    with pytest.raises(ValueError, match="core rule 'thresholds'"):
        DecisionPipeline.from_dict(raw)
    raw = pipeline.to_dict()
    raw["rules"][2]["version"] = 99
    with pytest.raises(ValueError, match="platt"):
        DecisionPipeline.from_dict(raw)


def test_country_relevance_learns_which_mentions_make_a_country_of_the_story():
    """Countries named often and early are the story's; one named once, late, is not. The learned rule finds
    that from gold countries, reports probabilities best first, and regions then follow the reported countries."""
    rng = np.random.default_rng(3)
    n = 200
    regions = ["Eastern Africa", "Northern Europe", "Western Europe"]
    inputs, gold, _ = synthetic_inputs(n, THEMES, regions, rng)
    mentions, truth = [], []
    for _ in range(n):
        main = CountryMention("KE", int(rng.integers(2, 6)), float(rng.uniform(0, 0.2)), True, 0.8)
        passing = CountryMention("FR", 1, float(rng.uniform(0.6, 1.0)), False, float(rng.uniform(0.2, 0.5)))
        mentions.append([main, passing])
        truth.append({"KE"})
    inputs.mentions, gold.countries = mentions, truth
    pipeline = DecisionPipeline(default_rules())
    pipeline.fit(inputs, gold)
    rule = pipeline.rule("country_relevance")
    assert isinstance(rule, CountryRelevance) and rule.enabled and len(rule.fitted.weights) == len(rule.fitted.mean)
    state = pipeline.apply(inputs)
    assert all([c for c, _ in cs] == ["KE"] for cs in state.countries)
    assert isinstance(pipeline.rule("regions_from_countries"), RegionsFromCountries)
    if pipeline.rule("regions_from_countries").enabled:
        assert all(state.region_on[k].sum() == 1 and state.region_on[k, 0] for k in range(n))
    again = DecisionPipeline.from_dict(json.loads(json.dumps(pipeline.to_dict())))
    assert again.apply(inputs).countries == state.countries
    no_places = pipeline.apply(type(inputs)(**{**inputs.__dict__, "mentions": [[] for _ in range(n)]}))
    assert all(cs == [] for cs in no_places.countries)  # a text that names no place gets no countries


def test_training_rows_serve_only_the_rules_that_read_the_text():
    """Fully labelled training articles join validation for the country model (its features come from the text),
    while the rules on the model's scores (scaling, thresholds) are fitted on validation alone."""
    rng = np.random.default_rng(5)
    regions = ["Eastern Africa", "Northern Europe", "Western Europe"]
    val_inputs, val_gold, _ = synthetic_inputs(150, THEMES, regions, rng)
    train_inputs, train_gold, _ = synthetic_inputs(200, THEMES, regions, rng)
    val_inputs.mentions = [[] for _ in range(150)]  # validation alone holds no country to learn from
    mentions = []
    for _ in range(200):
        main = CountryMention("KE", int(rng.integers(2, 6)), float(rng.uniform(0, 0.2)), True, 0.8, sentences=3,
                              in_lead=True)
        passing = CountryMention("FR", 1, float(rng.uniform(0.6, 1.0)), False, float(rng.uniform(0.2, 0.5)),
                                 sentences=1)
        mentions.append([main, passing])
    train_inputs.mentions, train_gold.countries = mentions, [{"KE"}] * 200

    alone = DecisionPipeline(default_rules())
    alone.fit(val_inputs, val_gold)
    joined = DecisionPipeline(default_rules())
    joined.fit(val_inputs, val_gold, training_rows=(train_inputs, train_gold))

    assert not alone.rule("country_relevance").fitted.weights
    assert joined.rule("country_relevance").fitted.weights
    assert joined.rule("thresholds").fitted == alone.rule("thresholds").fitted
    assert joined.rule("platt").fitted == alone.rule("platt").fitted
    joined.rule("country_relevance").enabled = True  # its gain is measured on validation, which has no countries
    state = joined.apply(train_inputs)
    assert all([c for c, _ in cs] == ["KE"] for cs in state.countries)


def test_of_near_equal_countries_the_first_named_leads():
    """Two countries the model is near-certain of are ordered by which the text names first (the headline's
    subject); a clearly better country keeps its place, and one reported country is left as it is."""

    mentions = [CountryMention("RU", 20, 0.05, True, 0.9), CountryMention("BY", 12, 0.0, True, 0.9)]
    assert first_named_first([("RU", 0.98), ("BY", 0.97)], mentions, 0.03) == [("BY", 0.97), ("RU", 0.98)]
    assert first_named_first([("RU", 0.98), ("BY", 0.80)], mentions, 0.03) == [("RU", 0.98), ("BY", 0.80)]
    assert first_named_first([("RU", 0.98)], mentions, 0.03) == [("RU", 0.98)]
    assert first_named_first([], mentions, 0.03) == []


@dataclass
class Memory:
    themes: dict[str, list[bool]] = field(default_factory=dict)


class MemorisedThemes(Rule):
    """A rule that only overfits: it reports the gold themes of the articles it was fitted on, and nothing new for
    any other article."""

    name = "memorised_themes"
    target = "themes"
    why = "learns nothing that carries over to new articles"
    Fitted = Memory

    def fit(self, state: DecisionState, gold) -> None:
        self.fitted = Memory({t: (gold.theme_labels[k] > 0).tolist() for k, t in enumerate(state.inputs.texts)})

    def apply(self, state: DecisionState) -> None:
        for k, text in enumerate(state.inputs.texts):
            if text in self.fitted.themes:
                state.theme_on[k] = self.fitted.themes[text]


def test_a_rule_that_only_fits_its_own_articles_is_switched_off_on_held_out_folds():
    """Measured on the articles it was fitted on, a memorising rule looks like a large gain; measured on folds it
    was not fitted on, it gains nothing and is stored off, while a rule with real signal stays on. The values kept
    are those fitted on every article."""
    rng = np.random.default_rng(2)
    n = 200
    inputs, gold, _ = synthetic_inputs(n, THEMES, REGIONS, rng)
    inputs.texts = [f"article {k}" for k in range(n)]
    inputs.gazetteer = gold.region_labels.copy()  # the articles name their region: real evidence

    in_sample = DecisionPipeline([*default_rules(), MemorisedThemes()])
    gains = {a.rule: a.gain for a in in_sample.fit(inputs, gold, folds=1)}  # one fold: the fitted articles
    assert gains["memorised_themes"] >= MIN_GAIN and in_sample.rule("memorised_themes").enabled

    held_out = DecisionPipeline([*default_rules(), MemorisedThemes()])
    gains = {a.rule: a.gain for a in held_out.fit(inputs, gold)}
    assert gains["memorised_themes"] == 0.0 and not held_out.rule("memorised_themes").enabled
    assert gains["gazetteer_regions"] >= MIN_GAIN and held_out.rule("gazetteer_regions").enabled
    assert len(held_out.rule("memorised_themes").fitted.themes) == n
    assert held_out.rule("platt").fitted == in_sample.rule("platt").fitted  # the kept fit is on every article
