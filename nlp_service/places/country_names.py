"""Country names: ``resolve_country`` maps one country name or code (a label) to ISO 3166 alpha-2; the surfaces
the gazetteer matches as a country's name or code (``country_names``), in English and, for texts in
``LOCAL_NAME_LANGUAGES``, in their own language (``local_country_names``)."""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache

import pycountry

from nlp_service.places.data_files import read_data_csv
from nlp_service.taxonomy import Taxonomy, load_taxonomy

# Lower-case names, codes and misspellings seen in labels → ISO code (label cleaning; also read by the summariser's
# faithfulness check).
COUNTRY_ALIASES: dict[str, str] = {r["alias"]: r["code"] for r in read_data_csv("country_aliases.csv")}

# Languages whose country names pycountry's translations give ("Deutschland", "Allemagne", "Alemania", "Germania",
# "Alemanha"). The tables are English; their cities (GeoNames alternate names: "München", "Roma", "Lisboa")
# already cover local spellings of capitals and large cities.
LOCAL_NAME_LANGUAGES = ("de", "fr", "es", "it", "pt")


def _norm(name: str) -> str:
    if name.strip().lower() in {"u.s.", "u.k."}:
        return name.strip().lower()
    return re.sub(r"\s+", " ", name.strip().strip(".").lower())


@cache
def resolve_country(name: str) -> str | None:
    """ISO alpha-2 code for a country name, code or common alias; None if it names no country ("global",
    "EU")."""
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


def strip_accents(text: str) -> str:
    """``text`` without combining accents ("Côte" → "Cote")."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def name_variants(name: str) -> set[str]:
    """A name as written, its accent-free form, and Saint/St./St spellings."""
    out = {name, strip_accents(name)}
    for form in list(out):
        for a, b in (("Saint ", "St. "), ("St. ", "Saint "), ("St. ", "St "), ("Saint ", "St ")):
            if form.startswith(a):
                out.add(b + form[len(a):])
    return {v for v in out if v and v[0].isupper()}


def _alias_surface(alias: str) -> str:
    """country_aliases.csv keys are lower case: write them as news does ("usa" → "USA", "cote d'ivoire" →
    "Cote d'Ivoire")."""
    if len(alias) <= 3 or "." in alias:
        return alias.upper()  # acronyms: USA, U.S., UK, UAE, DRC, PRC, KSA (and "us" → "US")
    small = {"of", "the", "and", "d'ivoire"}
    words = [w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(alias.split())]
    return " ".join("d'Ivoire" if w == "d'ivoire" else w for w in words)


def is_code(surface: str) -> bool:
    """Acronyms standing for a country: US, U.S., UK, UAE, DRC, DPRK."""
    letters = surface.replace(".", "")
    return letters.isupper() and letters.isalpha() and len(letters) <= 5


def country_names(tax: Taxonomy) -> dict[str, str]:
    """Surface → ISO code of every English country name and code the gazetteer matches: the taxonomy's names,
    pycountry's, country_aliases.csv as news writes them, then country_names.csv (which wins)."""
    names: dict[str, str] = {}
    for c in tax.countries:
        forms = {c.name}
        try:
            pc = pycountry.countries.get(alpha_2=c.code)
        except LookupError:
            pc = None
        if pc is not None:
            forms |= {getattr(pc, a, "") for a in ("name", "common_name", "official_name")}
        for f in forms:
            if f and "," not in f and "(" not in f and "[" not in f:
                for v in name_variants(f):
                    names.setdefault(v, c.code)
    for alias, code in COUNTRY_ALIASES.items():
        names.setdefault(_alias_surface(alias), code)
    names.update({r["surface"]: r["code"] for r in read_data_csv("country_names.csv")})
    return names


@cache
def local_country_names(language: str) -> re.Pattern:
    """A case-sensitive, whole-word pattern of the country names in ``language`` (pycountry's ISO 3166-1
    translations, common names first); a match's group name is its country code."""
    tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    names: dict[str, str] = {}
    for c in load_taxonomy().countries:
        pc = pycountry.countries.get(alpha_2=c.code)
        for attr in ("common_name", "name"):
            english = getattr(pc, attr, None) if pc is not None else None
            local = tr.gettext(english) if english else ""
            # "Korea, Republik" and "Bolivien (Plurinationaler Staat)" are index forms that news does not write.
            if local and "," not in local and "(" not in local:
                names.setdefault(local, c.code)
    alternatives = sorted(names, key=len, reverse=True)  # longest first: "Demokratische Republik Kongo" first
    pattern = "|".join(f"(?P<{names[n]}_{i}>{re.escape(n)})" for i, n in enumerate(alternatives))
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])")
