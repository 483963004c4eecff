"""Which mentioned countries the story is about: a logistic model over features of each (article, mentioned
country) pair, fitted on the validation split's gold countries. Its output is the probability that the country is
one of the article's countries; countries from ``fitted.threshold`` on are reported, best first, except that of
near-equals (``first_named_margin``) the one the text names first leads: it is the story's primary country.

Features (``FEATURES``, in order) are what a reader weighs: how often and how early the country is named, in the
title or not, its share of all country mentions, how it is named (name, demonym, capital, city, subdivision,
institution), whether it only sits in a list of countries, whether the entity recogniser tagged it, how many
sentences name it and how far apart, whether the lead sentence does, its count against the most-named country's,
and the region head's probability of its sub-region. Fitted values are plain numbers (weights, bias, feature scaling) so
a checkpoint needs no pickle. Mentions without the richer fields (an older gazetteer) get their defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule, sigmoid
from nlp_service.classify.decision.metrics import set_f1
from nlp_service.classify.decision.state import DecisionGold, DecisionState
from nlp_service.places import CountryMention
from nlp_service.taxonomy import load_taxonomy

KINDS: tuple[str, ...] = ("name", "code", "demonym", "capital", "city", "subdivision", "institution")
FEATURES: tuple[str, ...] = (
    "log_count", "first_pos", "in_title", "share", "rank", "mention_score", "region_p", "in_list", "list_share",
    "ner_tagged", "candidates", "log_sentences", "spread", "in_lead", "rel_count", "is_top",
    *(f"kind_{k}" for k in KINDS),
)


def pair_features(mentions: list[CountryMention], region_p: np.ndarray, regions: list[str]) -> np.ndarray:
    """(mentions × FEATURES) for one article's mentioned countries, in ``mentions`` order."""
    tax = load_taxonomy()
    index = {r: j for j, r in enumerate(regions)}
    top = max((m.count for m in mentions), default=1)
    rows = []
    for rank, m in enumerate(mentions):
        region = tax.region_of(m.code) if tax.has_country(m.code) else None
        rp = float(region_p[index[region.name]]) if region and region.name in index else 0.0
        rows.append([
            math.log1p(m.count), m.first_pos, float(m.in_title), m.share,
            math.log1p(rank), m.score, rp, float(m.in_list),
            m.list_count / max(m.count, 1),
            float(m.ner_label is not None), math.log1p(len(mentions)),
            math.log1p(m.sentences), m.last_pos - m.first_pos, float(m.in_lead), m.count / top, float(m.count == top),
            *(math.log1p(m.counts_by_kind.get(k, 0)) for k in KINDS),
        ])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


@dataclass
class RelevanceSettings:
    C: float = 1.0  # L2 strength of the logistic model: a few thousand pairs, 17 features
    folds: int = 5  # the threshold is chosen on out-of-fold probabilities, not on the fit's own
    grid: tuple[float, ...] = tuple(round(float(x), 3) for x in np.arange(0.1, 0.91, 0.025))
    # Reported countries within this of the best probability are alike to the model (it saturates for both sides
    # of a bilateral story); of those, the one the text names first, the headline's or lede's subject, is listed
    # first (the primary country of docs/annotation.md). Gold validation primary top-1 +1.2 points, gold train +0.5.
    first_named_margin: float = 0.03


def first_named_first(reported: list[tuple[str, float]], mentions: list[CountryMention],
                      margin: float) -> list[tuple[str, float]]:
    """``reported`` (best first) with the earliest-named reported country moved to the front when its probability
    is within ``margin`` of the best one."""
    if len(reported) < 2:
        return reported
    first_pos = {m.code: m.first_pos for m in mentions}
    first = min(reported, key=lambda cp: first_pos.get(cp[0], 1.0))
    if first is reported[0] or first[1] < reported[0][1] - margin:
        return reported
    return [first] + [cp for cp in reported if cp is not first]


@dataclass
class RelevanceFitted:
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    bias: float = 0.0
    threshold: float = 0.5


class CountryRelevance(Rule):
    name = "country_relevance"
    target = "countries"
    why = "a learned weighing of how a country is mentioned replaces hand-set floors and damping"
    # every feature but region_p is read from the mentions; the gold set's training articles add ~1,000 articles
    # of the annotation guideline's countries (gold test: country micro-F1 +1.3 points, top-1 +1.3)
    fits_on_training_rows = True
    Settings = RelevanceSettings
    Fitted = RelevanceFitted

    def probabilities(self, state: DecisionState) -> list[list[tuple[str, float]]]:
        f, i = self.fitted, state.inputs
        languages = i.languages or [None] * len(i.mentions)
        region_column = FEATURES.index("region_p")
        out = []
        for k, ms in enumerate(i.mentions):
            if not ms:
                out.append([])
                continue
            x = (pair_features(ms, state.region_p[k], i.regions) - np.array(f.mean)) / np.array(f.scale)
            if languages[k] is not None:
                # Text confidently not English: the encoder, trained on English only, does not read it, so its
                # region view says nothing here (a German rail-strike story got no Western Europe); the feature
                # is set to its training mean and the mentions decide.
                x[:, region_column] = 0.0
            p = sigmoid(x @ np.array(f.weights) + f.bias)
            out.append(sorted(((m.code, float(pk)) for m, pk in zip(ms, p, strict=True)), key=lambda t: -t[1]))
        return out

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        i = state.inputs
        xs, ys, owner = [], [], []
        for k, truth in enumerate(gold.countries):
            if truth is None or not i.mentions[k]:
                continue
            xs.append(pair_features(i.mentions[k], state.region_p[k], i.regions))
            ys += [m.code in truth for m in i.mentions[k]]
            owner += [k] * len(i.mentions[k])
        if not xs or len(set(ys)) < 2:
            self.fitted = RelevanceFitted()
            self.enabled = False
            return
        from sklearn.linear_model import LogisticRegression  # lazy: fitting only; serving never loads scikit-learn
        from sklearn.model_selection import cross_val_predict  # lazy: as above

        x, y = np.vstack(xs), np.array(ys, dtype=int)
        mean, scale = x.mean(0), x.std(0)
        scale[scale < 1e-6] = 1.0  # constant features (rounded to 0 when stored) must not divide
        z = (x - mean) / scale
        model = LogisticRegression(C=self.settings.C, max_iter=2000)
        folds = min(self.settings.folds, int(np.bincount(y).min()))
        oof = cross_val_predict(model, z, y, cv=folds, method="predict_proba")[:, 1] if folds >= 2 else None
        model.fit(z, y)
        threshold = 0.5
        if oof is not None:
            known = sorted(set(owner))
            truth = [gold.countries[k] for k in known]
            codes = [m.code for k in known for m in i.mentions[k]]
            at = {k: [] for k in known}
            for code, p, k in zip(codes, oof, owner, strict=True):
                at[k].append((code, p))
            threshold = max(self.settings.grid, key=lambda t: set_f1(
                [{c for c, p in at[k] if p >= t} for k in known], truth)["f1"])
        self.fitted = RelevanceFitted(list(FEATURES), mean.round(6).tolist(), scale.round(6).tolist(),
                                      model.coef_[0].round(6).tolist(), round(float(model.intercept_[0]), 6),
                                      float(threshold))

    def apply(self, state: DecisionState) -> None:
        if list(self.fitted.features) != list(FEATURES) or not self.fitted.weights:
            return  # fitted on another feature set: leave the countries as the rules before made them
        t = state.overrides.get("countries", self.fitted.threshold)
        margin = self.settings.first_named_margin
        state.countries = [first_named_first([(c, p) for c, p in scored if p >= t], ms, margin)
                           for scored, ms in zip(self.probabilities(state), state.inputs.mentions, strict=True)]


class RegionsFromCountries(Rule):
    """Regions follow the reported countries: an article's sub-regions are those of its countries, scored by the
    best country's probability, and the region head speaks alone only where no country is reported."""

    name = "regions_from_countries"
    target = "regions"
    why = "a region the story's own countries sit in beats the encoder's guess; the head covers the rest"

    def apply(self, state: DecisionState) -> None:
        tax = load_taxonomy()
        index = {r: j for j, r in enumerate(state.inputs.regions)}
        for k, countries in enumerate(state.countries or []):
            if not countries:
                continue
            best: dict[int, float] = {}
            for code, p in countries:
                region = tax.region_of(code)
                if region is not None and region.name in index:
                    j = index[region.name]
                    best[j] = max(best.get(j, 0.0), p)
            if not best:
                continue
            state.region_on[k] = False
            for j, p in best.items():
                state.region_on[k, j] = True
                state.region_p[k, j] = max(state.region_p[k, j], p)
