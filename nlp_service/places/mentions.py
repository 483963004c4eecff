"""What the gazetteer reports: the mention kinds, one mention's span (``MentionSpan``) and one country's mentions
in a text with their score and features (``CountryMention``)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Mention kinds, strongest first: a surface listed under several kinds keeps the strongest one.
NAME, CODE, DEMONYM, INSTITUTION, CAPITAL, SUBDIVISION, CITY = (
    "name", "code", "demonym", "institution", "capital", "subdivision", "city")
KINDS: tuple[str, ...] = (NAME, CODE, DEMONYM, INSTITUTION, CAPITAL, SUBDIVISION, CITY)


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
    score: float  # in [0, 1], see Gazetteer.find and places.scoring
    evidence: tuple[MentionSpan, ...] = ()  # every mention, in text order
    # kind → mentions (kinds with none left out); not hashed, so a mention stays hashable
    counts_by_kind: dict[str, int] = field(default_factory=dict, hash=False)
    in_list: bool = False  # every mention of it sits in an enumeration of ≥ MentionScoring.min_list countries
    share: float = 0.0  # its mentions / all country mentions in the text
    ner_label: str | None = None  # spaCy label (GPE, LOC, NORP) of its mentions, most frequent; None: untagged
    list_count: int = 0  # how many of its mentions sit in such an enumeration
    last_pos: float = 0.0  # relative character offset of the last mention
    sentences: int = 0  # distinct sentences (or lines) holding a mention: a strand of the story vs one aside
    in_lead: bool = False  # mentioned in the title or the first sentence after it
