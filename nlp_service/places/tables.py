"""The gazetteer's table: every surface it matches with its readings (``Entry``, ``Reading``), built from the
place data files (``build_entries``), keyed by first word as plain data (``raw_table``) and stored with marshal
per set of data files (``cached_table``).

Sources (``nlp_service/places/data/``, each file names its own): country names (``country_names``: the taxonomy's
``m49.csv``, pycountry, ``country_aliases.csv``, ``country_names.csv``); demonyms (``demonyms.csv``); institutions
and offices (``institutions.csv``) and leaders (``leaders.csv``); hand-written places (``places.csv``); generated
subdivisions and cities (``subdivisions.csv``, ``cities.csv``, from ``python -m training.gazetteer_tables``); names
read by context (``ambiguous.csv``); forms that name no country (``blocked.csv``); dateline abbreviations.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import re
import sys
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import pycountry

from nlp_service.places.country_names import country_names, is_code
from nlp_service.places.data_files import place_data_files, read_data_csv
from nlp_service.places.mentions import CAPITAL, CITY, CODE, DEMONYM, INSTITUTION, NAME, SUBDIVISION
from nlp_service.places.scoring import SCORING, city_prior, is_support_only
from nlp_service.runtime.weights import cache_dir, prune_folders, publish_folder
from nlp_service.taxonomy import Taxonomy, load_taxonomy

# State and province abbreviations of datelines ("Reno, Nev.", "London, Ont."), counted only right after ", ": file →
# the country they stand for.
DATELINE_ABBREVIATIONS: dict[str, str] = {"us_dateline_states.csv": "US", "ca_dateline_provinces.csv": "CA"}


class Reading(NamedTuple):
    code: str | None  # None: a blocked form (consumes the words, counts for no country)
    kind: str
    prior: float = 7.0  # only compared between the readings of one surface; a one-reading entry never uses it
    rules: frozenset[str] = frozenset()  # person, context, word (ambiguous.csv)
    cues: re.Pattern | None = None


class Entry(NamedTuple):
    surface: str
    tokens: tuple[str, ...]
    readings: tuple[Reading, ...]
    after_comma: bool = False  # only right after ", " (dateline state abbreviations: "Reno, Nev.")

    @property
    def plain(self) -> bool:
        """One reading and no rule: its country is certain."""
        return len(self.readings) == 1 and not self.readings[0].rules


# Word tokens: dotted acronyms ("U.S.", "U.K.") or runs of word characters (the table is keyed by first token).
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|\w+")


def tokens(surface: str) -> tuple[str, ...]:
    return tuple(m.group() for m in _TOKEN.finditer(surface))


def _demonyms() -> dict[str, str]:
    out: dict[str, str] = {}
    for row in read_data_csv("demonyms.csv"):
        for form in row["demonyms"].split(";"):
            if form.strip():
                out[form.strip()] = row["code"].strip()
    return out


def _generated_places(tax: Taxonomy) -> dict[str, list[Reading]]:
    """Surface → readings (one per country, best prior) from subdivisions.csv and cities.csv."""
    best: dict[str, dict[str, Reading]] = {}

    def add(surface: str, r: Reading) -> None:
        per = best.setdefault(surface, {})
        if r.code not in per or per[r.code].prior < r.prior:
            per[r.code] = r  # type: ignore[index]

    for row in read_data_csv("subdivisions.csv"):
        if tax.has_country(row["code"]):
            add(row["surface"], Reading(row["code"], SUBDIVISION, SCORING.subdivision_prior))
    for row in read_data_csv("cities.csv"):
        if tax.has_country(row["code"]):
            capital, population = row["capital"] == "1", max(int(row["population"]), 1)
            rules = frozenset({"context"}) if is_support_only(population, capital) else frozenset()
            prior = city_prior(population, capital)
            add(row["surface"], Reading(row["code"], CAPITAL if capital else CITY, prior, rules))
    return {s: sorted(per.values(), key=lambda r: -r.prior) for s, per in best.items()}


def _cue_pattern(cues: str) -> re.Pattern | None:
    words = [c.strip() for c in cues.split(";") if c.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")


def _ambiguous() -> dict[str, list[Reading]]:
    out: dict[str, list[Reading]] = {}
    for row in read_data_csv("ambiguous.csv"):
        rules = frozenset(r for r in row["rule"].split(";") if r)
        out.setdefault(row["surface"], []).append(
            Reading(row["code"], row["kind"], float(row["prior"]), rules, _cue_pattern(row["cues"])))
    return out


def build_entries() -> list[Entry]:
    """Every entry of the data files, a surface in several files keeping its strongest source."""
    tax = load_taxonomy()
    table: dict[str, tuple[Reading, ...]] = {}
    # Weakest first so that stronger kinds overwrite: a city called "Armenia" must not hide the country.
    for surface, readings in _generated_places(tax).items():
        table[surface] = tuple(readings)
    for row in read_data_csv("places.csv"):
        if tax.has_country(row["code"]):
            table[row["surface"]] = (Reading(row["code"], row["kind"]),)
    for name in ("institutions.csv", "leaders.csv"):
        for row in read_data_csv(name):
            table[row["surface"]] = (Reading(row["code"], INSTITUTION),)
    for surface, code in _demonyms().items():
        table[surface] = (Reading(code, DEMONYM),)
    for surface, code in country_names(tax).items():
        table[surface] = (Reading(code, CODE if is_code(surface) else NAME),)
    table.update({s: tuple(rs) for s, rs in _ambiguous().items()})
    for row in read_data_csv("blocked.csv"):
        table[row["surface"]] = (Reading(None, NAME),)
    # All-caps headlines and datelines ("UKRAINE WAR", "TORONTO, Nov. 16"): upper-case forms of five letters
    # or more (shorter ones collide with acronyms).
    for surface, value in list(table.items()):
        if len(surface) >= 5 and not surface.isupper():
            table.setdefault(surface.upper(), value)
    # Typographic apostrophes ("Côte d’Ivoire", "Xi’an") as well as straight ones.
    for surface, value in list(table.items()):
        if "'" in surface:
            table.setdefault(surface.replace("'", "’"), value)
    entries = []
    for surface, readings in table.items():
        toks = tokens(surface)
        if toks and toks[0][:1].isupper():
            entries.append(Entry(surface, toks, readings))
    for name, code in DATELINE_ABBREVIATIONS.items():
        for row in read_data_csv(name):
            s = row["surface"]
            entries.append(Entry(s, tokens(s), (Reading(code, SUBDIVISION),), after_comma=True))
    return entries


# One entry as plain data (surface, tokens, readings, after_comma); a reading is (code, kind, prior, rules, cue
# pattern or None). marshal reads this ~3x faster than the data files are parsed and resolved.
RawEntry = tuple
Table = dict[str, list[RawEntry]]
TABLE_CACHE = "gazetteer"
TABLE_FILE = "table.marshal"
TABLE_FORMAT = "1"  # bumped when RawEntry changes
KEEP_TABLES = 2

log = logging.getLogger(__name__)


def raw_table() -> Table:
    """First word → its entries as plain data, longest first."""
    table: Table = {}
    for e in build_entries():
        readings = tuple((r.code, r.kind, r.prior, tuple(sorted(r.rules)), r.cues.pattern if r.cues else None)
                         for r in e.readings)
        table.setdefault(e.tokens[0], []).append((e.surface, e.tokens, readings, e.after_comma))
    for entries in table.values():
        # longest first; of one surface, the dateline form first: right after ", " it is certain ("Kelowna, B.C.")
        entries.sort(key=lambda e: (-len(e[0]), not e[3]))
    return table


def entry_from_raw(raw: RawEntry) -> Entry:
    surface, toks, readings, after_comma = raw
    return Entry(surface, tuple(toks), tuple(
        Reading(code, kind, prior, frozenset(rules), re.compile(cues) if cues else None)
        for code, kind, prior, rules, cues in readings), after_comma)


def table_digest() -> str:
    """Hash of everything the table is built from: the place data files, the taxonomy's countries (``m49.csv``),
    the code that reads them (this package), pycountry's database and the Python version (marshal's format is
    Python's own)."""
    h = hashlib.sha256(f"{TABLE_FORMAT}|{sys.version_info[:2]}|{pycountry.__file__}".encode())
    m49 = resources.files("nlp_service.data").joinpath("m49.csv")
    for path in [*place_data_files(), m49, *sorted(Path(__file__).parent.glob("*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    db = Path(pycountry.__file__).parent / "databases" / "iso3166-1.json"
    if db.is_file():
        h.update(str(db.stat().st_mtime_ns).encode())
    return h.hexdigest()[:16]


def cached_table() -> Table:
    """The table stored in ``cache_dir()/gazetteer/table-<digest>/`` for the current data files, built and stored
    on first use. Any failure to read or write the cache falls back to building (the cache only saves time)."""
    try:
        folder = cache_dir() / TABLE_CACHE
        out = folder / f"table-{table_digest()}"
        if (out / TABLE_FILE).is_file():
            table = marshal.loads((out / TABLE_FILE).read_bytes())
            if isinstance(table, dict):
                return table
    except (OSError, ValueError, EOFError, TypeError) as exc:
        log.warning("gazetteer cache unreadable (%s); building the table", exc)
        out = None
    table = raw_table()
    if out is not None:
        try:
            publish_folder(out, lambda tmp: (tmp / TABLE_FILE).write_bytes(marshal.dumps(table)), replace_existing=True)
            prune_folders(folder, "table", KEEP_TABLES)
        except OSError as exc:
            log.warning("gazetteer cache not written (%s)", exc)
    return table
