"""Text cleaning and input checks shared by every component (the 'clean' step of the flow)."""

from __future__ import annotations

import html
import re
import unicodedata

# Word cap for one article: longer input is cut (with a warning), so one 60,000-word article cannot stall a batch.
MAX_WORDS = 20_000

_ARTEFACTS = re.compile(r"_x000[dD]_|\[\+\d+ chars\]|\u00a0")
_SPACES = re.compile(r"[ \t\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# The 150 most frequent English function words cover ~40% of running English text; other languages score far lower.
_ENGLISH_STOPWORDS = frozenset(
    """the of and to a in is that for it as was with be by on not he i this are or his from at which but have
    an they you were her she there been one all we their has would when if so no will more can who said also
    its into than them about after up out other only new some could these two may first then do any like my
    now over such our man me even most made where what people time year years just how those should very""".split()
)


class InputError(ValueError):
    """An article the service cannot analyse (empty, not text); the message says why."""


def clean_text(text: str) -> str:
    """Undo scraping artefacts (``_x000D_``, HTML entities, odd spaces) and normalise whitespace."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _ARTEFACTS.sub(" ", text).replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def english_share(text: str, sample_words: int = 400) -> float:
    """Share of the first words that are common English function words (≈0.3–0.5 for English prose)."""
    words = re.findall(r"[^\W\d_]+", text[:8000].lower())[:sample_words]
    if not words:
        return 0.0
    return sum(w in _ENGLISH_STOPWORDS for w in words) / len(words)


def prepare(text: object, max_words: int = MAX_WORDS) -> tuple[str, list[str]]:
    """Validate and clean one article. Returns (clean text, warnings); raises InputError for unusable input."""
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    cleaned = clean_text(text)
    if not cleaned:
        raise InputError("empty text")
    warnings: list[str] = []
    words = cleaned.split(" ")
    if len(cleaned.split()) > max_words:
        cleaned = " ".join(cleaned.split()[:max_words])
        warnings.append(f"text longer than {max_words} words was truncated")
    if len(words) >= 8 and english_share(cleaned) < 0.08:
        warnings.append("text does not look like English; the models are trained on English news only")
    return cleaned, warnings
