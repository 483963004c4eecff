"""Country names → ISO 3166 codes. (Mention detection in running text is added below this section.)"""

from __future__ import annotations

import re
from functools import cache

import pycountry

from nlp_service.taxonomy import load_taxonomy

# Names that pycountry's fuzzy search gets wrong or misses; lower case, punctuation kept as written in news.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "us": "US", "united states": "US", "america": "US",
    "united states of america": "US", "uk": "GB", "u.k.": "GB", "britain": "GB", "great britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "united kingdom": "GB",
    "russia": "RU", "russian federation": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP",
    "iran": "IR", "syria": "SY", "vietnam": "VN", "laos": "LA", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "moldova": "MD", "taiwan": "TW", "palestine": "PS", "gaza": "PS", "west bank": "PS",
    "czech republic": "CZ", "czechia": "CZ", "ivory coast": "CI", "cote d'ivoire": "CI", "côte d'ivoire": "CI",
    "drc": "CD", "dr congo": "CD", "democratic republic of congo": "CD", "democratic republic of the congo": "CD",
    "congo": "CG", "republic of congo": "CG", "burma": "MM", "myanmar": "MM", "turkey": "TR", "türkiye": "TR",
    "turkiye": "TR", "holland": "NL", "the netherlands": "NL", "uae": "AE", "united arab emirates": "AE",
    "emirates": "AE", "swaziland": "SZ", "eswatini": "SZ", "cape verde": "CV", "east timor": "TL",
    "macedonia": "MK", "north macedonia": "MK", "kosovo": "XK", "vatican": "VA", "brunei": "BN",
    "micronesia": "FM", "the gambia": "GM", "gambia": "GM", "the bahamas": "BS", "bahamas": "BS",
    "hong kong": "HK", "macau": "MO", "macao": "MO", "prc": "CN", "mainland china": "CN",
    "saudi": "SA", "ksa": "SA", "bosnia": "BA", "bosnia and herzegovina": "BA", "st lucia": "LC",
    "kyrgyzstan": "KG", "kazakstan": "KZ",
}


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().strip(".").lower()) if name.strip().lower() not in {"u.s.", "u.k."} \
        else name.strip().lower()


@cache
def resolve_country(name: str) -> str | None:
    """ISO alpha-2 code for a country name, code or common alias; None if it names no country ("global", "EU")."""
    if not name or not name.strip():
        return None
    key = name.strip().lower()
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    key = _norm(name)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    tax = load_taxonomy()
    if len(key) in (2, 3) and key.isalpha() and tax.has_country(key):
        return tax.country(key).code
    for c in tax.countries:
        if c.name.lower() == key:
            return c.code
    try:
        hit = pycountry.countries.lookup(key)
        return hit.alpha_2 if tax.has_country(hit.alpha_2) else None
    except LookupError:
        return None
