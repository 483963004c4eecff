"""Language identification with py3langid (a fork of langid.py: a naive Bayes model over byte n-grams of 97
languages, shipped inside the package, so nothing is downloaded). Used to warn that an article is not
English, since the models are trained on English news only."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

_SAMPLE_CHARS = 2_000  # the first paragraphs say the language; the whole article only costs time
_MIN_LETTERS = 20  # below this, any guess is noise: no warning
_lock = threading.Lock()
_identifier: Any = None


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, e.g. "en", "zh"
    probability: float
    english: float  # the probability of English, for the "not English" decision

    @property
    def not_english(self) -> bool:
        """Confidently another language: short English headlines are often guessed as a neighbour language
        (Nigerian Pidgin, Scots) with English close behind, so English must be unlikely too."""
        return self.code != "en" and self.english < 0.01


def _model() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                # lazy: loaded with its model (about a second) on the first article; --help must not pay for it
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def warm_up() -> None:
    """Load the model now (about a second) rather than on the first article."""
    _model()


def detect(text: str) -> Language | None:
    """The most probable language of ``text``, or None when there are too few letters to tell."""
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
        return None
    ranked = _model().rank(sample)
    code, probability = ranked[0]
    english = next((float(p) for c, p in ranked if c == "en"), 0.0)
    return Language(str(code), float(probability), english)


NAMES = {
    "ar": "Arabic", "de": "German", "es": "Spanish", "fr": "French", "hi": "Hindi", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian",
    "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian", "zh": "Chinese",
}


def name(code: str) -> str:
    return NAMES.get(code, code)


def text_language(text: str) -> str | None:
    """``text``'s language code where it is confidently not English (``Language.not_english``), else None: the
    models read English, and a short English text guessed as a neighbour language is still read as English."""
    detected = detect(text)
    return detected.code if detected is not None and detected.not_english else None
