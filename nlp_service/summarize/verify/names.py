"""Names for the name-and-number rule: the capitalised spans of a text that name something.

No NER model ships with the service, so names are found by rule: runs of capitalised tokens (with "of", "de",
"al" … inside), acronyms ("NATO", "U.S."), tokens mixing letters and digits ("COVID-19", "G7"). A capitalised
word that opens a sentence (or a quotation) counts only when it is not a common word and is an acronym, part of
a longer name, or a known country / demonym / city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp_service.summarize.sentences import split_sentences
from nlp_service.summarize.verify.countries import country_of, known_places
from nlp_service.summarize.verify.forms import APOSTROPHES, POSSESSIVE, fold, norm_token

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_](?:[\w]|['-](?=\w))*", re.UNICODE)
CONNECTORS = frozenset(
    {"of", "de", "del", "der", "van", "von", "la", "le", "du", "da", "al", "el", "bin", "the"}
)
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


def _possessive(token: str) -> bool:
    """"Norwell's", "Reuters'": a sentence opener that owns something is a name, not a common word."""
    return bool(POSSESSIVE.search(token.translate(APOSTROPHES))) and "'" in token.translate(APOSTROPHES)


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
                nxt.lower() in CONNECTORS
                and j + 1 < len(tokens)
                and _is_capitalised(tokens[j + 1].group())
                and text[tokens[j].end() : tokens[j + 1].start()] == " "
            ):
                j += 2
            else:
                break
        span = [t.group() for t in tokens[i:j]]
        at_start = tokens[i].start() in starts
        first = fold(POSSESSIVE.sub("", span[0].translate(APOSTROPHES)))
        if at_start and (fold(span[0]) in _COMMON or first in _COMMON) and not _is_strong(span[0]):
            span = span[1:]
            while span and span[0].lower() in CONNECTORS:
                span = span[1:]
        elif at_start and len(span) == 1 and not _is_strong(span[0]) and not _possessive(span[0]):
            word = norm_token(span[0])
            if country_of(span[0]) is None and word not in known_places():
                span = []  # a capitalised sentence opener that is no known place: most likely a common word
        if span:
            out.append(Name(" ".join(span), tuple(span)))
        i = j
    return out


def initials(words: list[str] | tuple[str, ...]) -> str:
    """'European Union' → 'eu', 'Bank of England' → 'boe' (connectors skipped)."""
    return "".join(w[0] for w in (fold(w) for w in words) if w and w not in CONNECTORS)
