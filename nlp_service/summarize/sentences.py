"""Sentence splitting for the summarisers and the faithfulness check: every sentence splitter of the section.

``split_sentences`` / ``iter_paragraphs``: pysbd, for what the summarisers choose from and for the rule's
sentence starts, with the rules of the text's language where pysbd has them (German, French, Spanish, Italian,
Dutch, Polish, Russian …; ``rules_language``) and English rules otherwise: English rules cut "z. B.", "1. Januar"
or "cf. chap." in two. ``sentence_spans``: a regex splitter giving character spans, for the consistency
checker, which splits every article and summary it checks and cannot afford pysbd. The two cut some texts
differently (the checker's copy test allows for that: ``verify.article.LONG_COPY_WORDS``).

pysbd at bounded cost on any input: a summary of 1–2 sentences is drawn from the start of an article, so only the
first ``max_chars`` characters (25k ≈ 4,000 words) are split at all; pysbd runs per paragraph, lazily, and a
paragraph too long to be prose (no sentence end for hundreds of words) is cut into ~40-word pieces instead of
being handed to pysbd, so a 60,000-word text without punctuation cannot stall a batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

from nlp_service.text.language import text_language

MAX_CHARS = 25_000  # characters of a text that are split; the rest cannot matter for a 1–2 sentence abstract
MAX_SENTENCE_WORDS = 80  # longer "sentences" are run-ons or lists: cut into pieces
PIECE_WORDS = 40
_MAX_PARAGRAPH_CHARS = 5_000  # longer paragraphs are pre-cut at obvious sentence ends before pysbd sees them

_OBVIOUS_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")


ENGLISH = "en"


@cache
def _segmenter(language: str = ENGLISH) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False)


def rules_language(text: str) -> str:
    """The language whose pysbd rules split ``text``: its own where it is confidently not English
    (``text_language``) and pysbd has rules for it (pysbd 0.3.4: am, ar, bg, da, de, el, es, fa, fr, hi, hy, it,
    ja, kk, mr, my, nl, pl, ru, sk, ur, zh; not Portuguese), else English, so an English text splits as it
    always did."""
    code = text_language(text)
    return code if code in LANGUAGE_CODES else ENGLISH


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


def _split_paragraph(paragraph: str, language: str = ENGLISH) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(paragraph):
        words = chunk.split()
        if len(words) > 4 * MAX_SENTENCE_WORDS and not _OBVIOUS_END.search(chunk):
            out.extend(_pieces(words))  # no sentence end anywhere: pysbd would return one giant "sentence"
            continue
        for sentence in _segmenter(language).segment(chunk):
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
    pysbd costs ~10 ms per 1,000 characters, so a caller that needs only the first sentences stops early. The
    rules are those of the text's language (``rules_language``), told once from its opening."""
    head = _head(text, max_chars)
    language = rules_language(head)
    for paragraph in head.split("\n"):
        sentences = _split_paragraph(paragraph.strip(), language) if paragraph.strip() else []
        if sentences:
            yield sentences


def iter_sentences(text: str, max_chars: int = MAX_CHARS) -> Iterator[str]:
    for paragraph in iter_paragraphs(text, max_chars):
        yield from paragraph


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of ``text`` in order, whitespace-normalised; never longer than MAX_SENTENCE_WORDS words."""
    return list(iter_sentences(text, max_chars))


# the regex splitter: a sentence end, closing quotes or brackets, space, and an opening capital or digit
_SPAN_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n+")
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen col lt sgt capt maj gov sen rep st rev jr sr inc co corp ltd no vs etc jan feb mar apr
    jun jul aug sep sept oct nov dec""".split()
)


def _abbreviation_before(text: str, end: int) -> bool:
    """The period at text[end - 1] closes an abbreviation ("Gen.", "Apr.") or an initial ("J.", "U.S.")."""
    words = text[:end].rstrip(".\"”’')]").rsplit(None, 1)  # empty when only punctuation precedes: '"." Next'
    word = words[-1] if words else ""
    last = word.split(".")[-1] or (word.split(".")[-2] if word.count(".") >= 1 else "")
    return last.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isupper())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences: the cheap regex splitter (pysbd costs ~10 ms per 1,000 characters, more
    than the whole consistency check; its windows and summary sentences need no finer cut). No cut after an
    abbreviation or an initial."""
    spans, start = [], 0
    for m in _SPAN_END.finditer(text):
        if text[m.start() - 1: m.start()] == "." and _abbreviation_before(text, m.start()):
            continue
        if text[start: m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    out = []
    for a, b in spans:  # trim whitespace
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out.append((a, b))
    return out
