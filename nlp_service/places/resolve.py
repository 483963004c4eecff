"""Which country a matched name stands for in its text (``Resolver``: ambiguous names read by context, person-like
and word-like names), and which mentions sit in an enumeration of countries (``list_members``)."""

from __future__ import annotations

import re
from typing import NamedTuple

from nlp_service.places.ner import NerSpan
from nlp_service.places.scoring import SCORING, reading_score
from nlp_service.places.tables import Entry, Reading


class Match(NamedTuple):
    start: int
    end: int
    entry: Entry


class Resolved(NamedTuple):
    start: int
    end: int
    code: str
    kind: str
    surface: str


class Resolver:
    """Picks one country (or none) for each match of a text.

    A plain entry keeps its one reading. An ambiguous one (several readings, or a rule) scores each reading

        prior + context_bonus · [its country is named by a plain entry elsewhere] + cue_bonus · [a cue nearby]

    (``scoring.reading_score``) where a qualifier right after it ("Paris, Texas": ", " then a plain mention of one
    reading's country) decides outright. Rules drop readings: ``person`` where the name looks like part of a
    person's name, ``context`` without context, cue or qualifier, ``word`` (a common word) unless it also follows a
    locative preposition. Readings without context or cue whose priors are within ``margin`` are a coin toss: the
    mention is dropped.
    """

    def __init__(self, text: str, matches: list[Match], spans: list[NerSpan]):
        self.text = text
        self.matches = matches
        self.context = {m.entry.readings[0].code for m in matches if m.entry.plain}
        self.persons = [(s.start, s.end) for s in spans if s.label == "PERSON"]

    def resolve(self) -> list[Resolved]:
        by_start = {m.start: m for m in self.matches}
        out = []
        for m in self.matches:
            r = m.entry.readings[0] if m.entry.plain else self._choose(m, by_start)
            if r is not None and r.code is not None:
                out.append(Resolved(m.start, m.end, r.code, r.kind, m.entry.surface))
        return out

    def _choose(self, m: Match, by_start: dict[int, Match]) -> Reading | None:
        readings = [r for r in m.entry.readings if r.code is not None]
        if not readings:
            return None
        qualifier = by_start.get(m.end + 2) if self.text[m.end:m.end + 2] == ", " else None
        if qualifier is not None and qualifier.entry.plain:
            code = qualifier.entry.readings[0].code
            hit = next((r for r in readings if r.code == code), None)
            if hit is not None:
                return hit
        window = self.text[max(0, m.start - SCORING.cue_window):m.end + SCORING.cue_window]
        person_like = looks_like_person(self.text, m.start, m.end) or self._tagged_person(m)
        scored: list[tuple[float, bool, Reading]] = []
        for r in readings:
            in_context = r.code in self.context
            cued = r.cues is not None and r.cues.search(window) is not None
            supported = in_context or cued
            if "person" in r.rules and person_like and not cued:
                continue
            if "context" in r.rules and not supported:
                continue
            if "word" in r.rules and not supported and not after_locative(self.text, m.start, m.end):
                continue
            scored.append((reading_score(r.prior, in_context, cued), supported, r))
        if not scored:
            return None
        scored.sort(key=lambda x: -x[0])
        if len(scored) > 1 and not scored[0][1] and scored[0][0] - scored[1][0] < SCORING.margin:
            return None
        return scored[0][2]

    def _tagged_person(self, m: Match) -> bool:
        return any(a <= m.start and m.end <= b for a, b in self.persons)


def list_members(text: str, resolved: list[Resolved]) -> set[int]:
    """Indices of mentions that sit in an enumeration of ≥ ``min_list`` different countries: consecutive mentions
    separated only by a comma, "and", "or", a slash or a semicolon."""
    members: set[int] = set()
    run = [0]
    for i in range(1, len(resolved) + 1):
        if i < len(resolved) and _LIST_GAP.match(text, resolved[i - 1].end, resolved[i].start):
            run.append(i)
            continue
        if len({resolved[j].code for j in run}) >= SCORING.min_list:
            members.update(run)
        run = [i]
    return members


_LIST_GAP = re.compile(r"(?:'s)?\s*(?:,|;|/|&|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*(?:the\s+)?$")


def looks_like_person(text: str, start: int, end: int) -> bool:
    """A name right next to (one space apart) another capitalised word: "Michael Jordan", "Jordan Smith"."""
    if _NEXT_CAPITALISED.match(text, end):
        return True
    prev = _PREV_WORD.search(text, max(0, start - 40), start)
    return bool(prev) and prev.group(1)[0].isupper() and prev.group(1) not in _FUNCTION_WORDS \
        and not prev.group(1).isupper()


def after_locative(text: str, start: int, end: int) -> bool:
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
