"""Sentence splitting for the summarisers and the faithfulness check (pysbd, English rules).

Bounded cost on any input: a summary of 1–2 sentences is drawn from the start of an article, so only the
first ``max_chars`` characters (25k ≈ 4,000 words) are split at all; pysbd runs per paragraph, lazily, and a
paragraph too long to be prose (no sentence end for hundreds of words) is cut into ~40-word pieces instead of
being handed to pysbd, so a 60,000-word text without punctuation cannot stall a batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pysbd

MAX_CHARS = 25_000  # characters of a text that are split; the rest cannot matter for a 1–2 sentence abstract
MAX_SENTENCE_WORDS = 80  # longer "sentences" are run-ons or lists: cut into pieces
PIECE_WORDS = 40
_MAX_PARAGRAPH_CHARS = 5_000  # longer paragraphs are pre-cut at obvious sentence ends before pysbd sees them

_OBVIOUS_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _pieces(words: list[str], size: int = PIECE_WORDS) -> list[str]:
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def _chunks(paragraph: str) -> list[str]:
    """Cut an over-long paragraph into ≤ _MAX_PARAGRAPH_CHARS chunks at obvious sentence ends."""
    if len(paragraph) <= _MAX_PARAGRAPH_CHARS:
        return [paragraph]
    out: list[str] = []
    current = ""
    for part in _OBVIOUS_END.split(paragraph):
        if len(current) + len(part) + 1 > _MAX_PARAGRAPH_CHARS and current:
            out.append(current)
            current = ""
        current = f"{current} {part}".strip()
    if current:
        out.append(current)
    # A chunk can still be huge when there is no punctuation at all: it is cut into word pieces by the caller.
    return out


def _split_paragraph(paragraph: str) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(paragraph):
        words = chunk.split()
        if len(words) > 4 * MAX_SENTENCE_WORDS and not _OBVIOUS_END.search(chunk):
            out.extend(_pieces(words))  # no sentence end anywhere: pysbd would return one giant "sentence"
            continue
        for sentence in _segmenter().segment(chunk):
            words = sentence.split()
            if len(words) > MAX_SENTENCE_WORDS:
                out.extend(_pieces(words))
            elif words:
                out.append(" ".join(words))
    return out


def _head(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars]


def iter_paragraphs(text: str, max_chars: int = MAX_CHARS) -> Iterator[list[str]]:
    """Sentences grouped by paragraph (newline-separated), over the first ``max_chars`` characters, lazily:
    pysbd costs ~10 ms per 1,000 characters, so a caller that needs only the first sentences stops early."""
    for paragraph in _head(text, max_chars).split("\n"):
        sentences = _split_paragraph(paragraph.strip()) if paragraph.strip() else []
        if sentences:
            yield sentences


def iter_sentences(text: str, max_chars: int = MAX_CHARS) -> Iterator[str]:
    for paragraph in iter_paragraphs(text, max_chars):
        yield from paragraph


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of ``text`` in order, whitespace-normalised; never longer than MAX_SENTENCE_WORDS words."""
    return list(iter_sentences(text, max_chars))
