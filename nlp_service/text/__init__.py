"""Text in: an article or a summary checked and cleaned before any model sees it (``clean``), HTML turned into its
title and body text (``html``), and the language told from the text (``language``)."""

from nlp_service.text.clean import (
    MAX_CHARS,
    MAX_INPUT_CHARS,
    MAX_WORDS,
    TOO_LONG,
    InputError,
    cap_words,
    clean_text,
    count_words,
    prepare,
    prepare_summary,
    too_long,
)
from nlp_service.text.language import text_language

__all__ = [
    "MAX_CHARS",
    "MAX_INPUT_CHARS",
    "MAX_WORDS",
    "TOO_LONG",
    "InputError",
    "cap_words",
    "clean_text",
    "count_words",
    "prepare",
    "prepare_summary",
    "text_language",
    "too_long",
]
