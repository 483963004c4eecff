"""Countries in text: ``Gazetteer.find`` finds the countries an article mentions, with evidence (each mention's
surface, kind and character span), and scores them (``places.scoring``).

The table of names comes from ``places.tables``, the reading of ambiguous names from ``places.resolve``; spaCy NER
spans (``places.ner``) are merged in where installed. docs/countries.md.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from functools import cache

from nlp_service.places.country_names import LOCAL_NAME_LANGUAGES, local_country_names
from nlp_service.places.mentions import NAME, CountryMention, MentionSpan
from nlp_service.places.ner import NerSettings, NerSpan, ner_available, ner_spans
from nlp_service.places.resolve import Match, Resolved, Resolver, list_members
from nlp_service.places.scoring import country_score, region_scores
from nlp_service.places.tables import Entry, Reading, Table, cached_table, entry_from_raw, raw_table, tokens
from nlp_service.taxonomy import load_taxonomy

# A mention starts at a token that does not start with a lower-case ASCII letter or a digit: a dotted acronym
# ("U.S.") or a capitalised word (the table is keyed by first token).
_CANDIDATE = re.compile(r"(?<!\w)(?:(?:[A-Z]\.){2,}|[^\W\d_a-z]\w*)")
# A rough sentence break (end punctuation and space, or a line break), only to count the sentences that name a
# country and find the lead: a missed break costs little, and the project's sentence splitter
# (summarize/sentences.py) sits above this layer.
_ROUGH_SENTENCE_BREAK = re.compile(r"[.!?][\"'”’)]*\s+|\n")
_LABEL_ORDER = {"GPE": 0, "NORP": 1, "LOC": 2}  # ties between NER labels of one country's mentions


class Gazetteer:
    """Finds countries in English news text by their names, codes, demonyms, institutions, subdivisions and cities.

    Matching is case-sensitive (the pronoun "us" is not the US), whole-word and longest-match-first ("New
    South Wales" is Australia, not Wales; "Papua New Guinea" is not Guinea), by one dictionary lookup per
    capitalised word. Names several places share are resolved per text (``places.resolve.Resolver``). Build it once
    with ``load_gazetteer()``.
    """

    def __init__(self, table: Table, ner: NerSettings | None = None):
        """``table``: first word → its entries as plain tuples (``tables.raw_table``), in matching order. Entries
        become objects per first word when a text first uses that word: a text touches a few hundred of the
        ~60,000 words, and converting them all costs more than the rest of the start-up."""
        self._table = table
        self._entries: dict[str, list[Entry]] = {}
        self._tax = load_taxonomy()
        self.ner = ner if ner is not None else NerSettings()

    @classmethod
    def build(cls, ner: NerSettings | None = None, cache: bool = True) -> Gazetteer:
        """From the data files; ``cache`` reuses the table stored for these files (``tables.cached_table``)."""
        return cls(cached_table() if cache else raw_table(), ner)

    def __len__(self) -> int:
        return sum(len(v) for v in self._table.values())

    def _candidates(self, word: str) -> list[Entry] | None:
        """The entries whose surface starts with ``word``, longest first."""
        entries = self._entries.get(word)
        if entries is None:
            raw = self._table.get(word)
            if raw is None:
                return None
            entries = self._entries[word] = [entry_from_raw(r) for r in raw]
        return entries

    def _by_surface(self, surface: str) -> Entry | None:
        toks = tokens(surface)
        for e in (self._candidates(toks[0]) if toks else None) or ():
            if e.surface == surface and not e.after_comma:
                return e
        return None

    @property
    def uses_ner(self) -> bool:
        return self.ner.enabled and ner_available()

    def _matches(self, text: str) -> list[Match]:
        """Every mention, left to right, longest match first, not overlapping."""
        out: list[Match] = []
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
                out.append(Match(start, end, e))
                break
        return out

    def find(self, text: str) -> list[CountryMention]:
        """Countries mentioned in ``text``, best first.

        Score of a country, from its mentions (``scoring.country_score``, settings in ``scoring.MentionScoring``):

            evidence = Σ over its mentions of kind_weights[kind]  (name, code 1.0; demonym, institution 0.8;
                                                                    capital, subdivision 0.6; city 0.5)
                       + title_bonus · [named in the first line]                                     (1.5)
                       + early_bonus · (1 − first_pos)                                               (2.0)
            score    = 1 − exp(−evidence / scale)                                                    (4.0)

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
        resolved = Resolver(text, matches, spans or []).resolve()
        if not resolved:
            return []
        in_list = list_members(text, resolved)
        labels = _ner_labels(resolved, spans or [])
        return _aggregate(text, resolved, in_list, labels)

    def _add_ner_places(self, text: str, matches: list[Match], spans: list[NerSpan]) -> list[Match]:
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
                extra.append(Match(start, start + len(surface), e))
        return sorted(matches + extra, key=lambda m: m.start) if extra else matches

    def region_scores(self, mentions: list[CountryMention]) -> dict[str, float]:
        """M49 sub-region → noisy-or of its countries' scores (``scoring.region_scores``), best first. Countries M49
        puts in no sub-region (Antarctica) are skipped."""
        pairs = []
        for m in mentions:
            region = self._tax.region_of(m.code) if self._tax.has_country(m.code) else None
            if region is not None:
                pairs.append((region.name, m.score))
        return region_scores(pairs)


def _with_local_names(text: str, matches: list[Match], language: str) -> list[Match]:
    """``matches`` plus the country names of ``language`` in ``text`` that no English match covers."""
    taken = [(m.start, m.end) for m in matches]
    extra = []
    for m in local_country_names(language).finditer(text):
        if any(m.start() < end and start < m.end() for start, end in taken):
            continue
        code = m.lastgroup.split("_")[0]
        extra.append(Match(m.start(), m.end(), Entry(m.group(), tokens(m.group()), (Reading(code, NAME),))))
    return sorted(matches + extra, key=lambda m: m.start)


def _ner_labels(resolved: list[Resolved], spans: list[NerSpan]) -> list[str | None]:
    """The place label of the NER span covering each mention (None where NER did not tag it)."""
    places = [s for s in spans if s.label != "PERSON"]
    out: list[str | None] = []
    for r in resolved:
        hit = next((s.label for s in places if s.start <= r.start and r.end <= s.end), None)
        if hit is None:  # a span inside the mention ("Kenya" inside "the Kenyan-led"), or overlapping it
            hit = next((s.label for s in places if s.start < r.end and r.start < s.end), None)
        out.append(hit)
    return out


def _aggregate(text: str, resolved: list[Resolved], in_list: set[int],
               labels: list[str | None]) -> list[CountryMention]:
    newline = text.find("\n")
    title_end = newline if newline > 0 else -1
    size = max(len(text), 1)
    ends = [m.end() for m in _ROUGH_SENTENCE_BREAK.finditer(text)]
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
        score = country_score((s.kind for s in spans), in_title, first_pos)
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


@cache
def load_gazetteer() -> Gazetteer:
    """The shared Gazetteer (built on first use from the data files), NER settings at their defaults."""
    return Gazetteer.build()
