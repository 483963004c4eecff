"""The rule: every name and every number of a summary must be found in its source article.

This is one of the consistency checker's two kinds of evidence (``check.Verifier`` combines it with the learned
model of ``model.py``); on its own it is the checker when no model is installed (``Verifier.rule_only``).
Names are found by ``names.extract_names``, numbers by ``numbers.extract_numbers``.

A name is supported when the source contains it ignoring case, accents, possessives and plural -s ("Russia's" ↔
"Russia"), when each of its words is in the source, when it is the initialism of a source name or vice versa
("EU" ↔ "European Union"), or when it names the same country as a name or demonym in the source ("Russian" ↔
"Russia", "British" ↔ "UK"). A number is supported when the source holds the same value (with the same
currency, if both give one).

Limits (known, accepted): a hallucinated single capitalised common-looking word at a sentence start is
not caught ("Scientists …" is not a name); a name spelt with words all found elsewhere in the source passes;
rounding ("nearly 8,000" for 7,960) fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlp_service.summarize.verify.countries import country_of, country_table
from nlp_service.summarize.verify.forms import APOSTROPHES, POSSESSIVE, fold, norm_token
from nlp_service.summarize.verify.names import CONNECTORS, Name, extract_names, initials
from nlp_service.summarize.verify.numbers import NumberMention, extract_numbers

_WORD = re.compile(r"(?:[A-Z]\.){2,}|[^\W_]+(?:'[^\W_]+)*", re.UNICODE)  # source words (no hyphen joins)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "prof", "lord", "lady", "rev", "st"})


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
        words = [norm_token(w) for w in _WORD.findall(source.translate(APOSTROPHES))]
        tokens = set(words)
        for w in list(tokens):
            if "-" in w:
                tokens.update(w.split("-"))
        countries, initials = _source_runs(source)
        tokens |= initials
        numbers = {(m.key, m.currency) for m in extract_numbers(source)}
        return cls(" " + " ".join(words) + " ", tokens, countries, numbers, {k for k, _ in numbers})


_CAPITALISED_RUN = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][\w'.-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'.-]*)*")


def _source_runs(source: str) -> tuple[set[str], set[str]]:
    """Countries the source names (by name, alias or demonym) and the initialisms of its capitalised runs
    ("European Union" → "eu", so a summary may say "EU"). Every sub-run of ≤ 4 capitalised words is looked
    up in the country table: dict lookups only, so a long article costs milliseconds."""
    table = country_table()
    found: set[str] = set()
    acronyms: set[str] = set()
    for run in set(_CAPITALISED_RUN.findall(source.translate(APOSTROPHES))):
        words = [fold(POSSESSIVE.sub("", w)).rstrip(".") for w in run.split()]
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
    norm = norm_token(token)
    if not norm or norm in _HONORIFICS:
        return True
    if _variants(norm) & src.tokens:
        return True
    if "-" in norm and all(_token_supported(part, src) for part in token.split("-") if part):
        return True
    code = country_of(token) or country_of(POSSESSIVE.sub("", token.translate(APOSTROPHES)))
    return code is not None and code in src.countries


def name_supported(name: Name, src: SourceIndex) -> bool:
    phrase = " ".join(norm_token(t) for t in name.tokens)
    if f" {phrase} " in src.text:
        return True
    code = country_of(name.surface)
    if code is not None and code in src.countries:
        return True
    if len(name.tokens) >= 2 and initials(name.tokens) in src.tokens:
        return True  # "European Union" for the source's "EU"
    return all(_token_supported(t, src) for t in name.tokens if t.lower() not in CONNECTORS)


def number_supported(number: NumberMention, src: SourceIndex) -> bool:
    if not number.checked:
        return True
    if number.currency is None:
        return number.key in src.number_keys
    return (number.key, number.currency) in src.numbers or (number.key, None) in src.numbers


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
