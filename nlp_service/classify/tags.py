"""A record's label lists from decided scores: each list best first, each score to the four decimals users get.
The IPTC classifier and the own-label heads build their theme lists here alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from nlp_service.places.gazetteer import CountryMention
from nlp_service.records import CountryTag, MentionEvidence, RegionTag, ThemeEvidence, ThemeTag
from nlp_service.taxonomy import Region, Taxonomy


def theme_tags(
    labels: Sequence[tuple[str, str]],
    p: np.ndarray,
    columns: Iterable[int],
    evidence: Mapping[int, ThemeEvidence] | None = None,
) -> list[ThemeTag]:
    """One text's reported themes, best first: the (name, code) ``labels`` of ``columns``, scored ``p[column]``."""
    evidence = evidence or {}
    return sorted(
        (ThemeTag(labels[j][0], labels[j][1], round(float(p[j]), 4), evidence.get(j)) for j in columns),
        key=lambda x: -x.score,
    )


def region_tags(regions: Sequence[Region], p: np.ndarray, on: np.ndarray) -> list[RegionTag]:
    """One text's reported sub-regions (``on``), best first."""
    return sorted(
        (RegionTag(r.name, r.continent, r.m49, round(float(p[j]), 4)) for j, r in enumerate(regions) if on[j]),
        key=lambda x: -x.score,
    )


def country_tags(
    taxonomy: Taxonomy, countries: list[tuple[str, float]], mentions: list[CountryMention]
) -> list[CountryTag]:
    """One text's reported countries in the decided order, each with the mentions that name it."""
    spans = {m.code: m.evidence for m in mentions}
    return [
        CountryTag(code, taxonomy.country(code).name, round(score, 4),
                   [MentionEvidence(s.surface, s.kind, s.start, s.end) for s in spans.get(code, ())])
        for code, score in countries
    ]
