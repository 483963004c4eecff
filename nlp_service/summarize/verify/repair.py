"""The rule's repair: a faithful shortening of a summary, its unsupported sentences or side clauses dropped, when
what is left is still a summary. The summariser's guard (``nlp_service.summarize.guard``) tries it before
replacing an abstract by the extractive summary."""

from __future__ import annotations

import re

from nlp_service.summarize.sentences import split_sentences
from nlp_service.summarize.verify.forms import fold
from nlp_service.summarize.verify.rule import SourceIndex, check

# A repair shorter than this is a fragment, not a summary of who did what: it is refused (the guard then gives
# the extractive summary instead of a stub).
MIN_REPAIRED_WORDS = 8

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
