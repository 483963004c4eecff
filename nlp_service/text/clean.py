"""Text cleaning and input checks shared by every component (the 'clean' step of the flow).

``prepare`` is the one place an article's text is made fit for the models, whichever door it came through: HTML
(known by its structure) becomes its title and body text, mojibake is repaired (ftfy), control and invisible
characters go, text with nothing left is rejected, very long text is cut by words and refused past a character
limit, and text in another language (judged without its quotations) gets a warning. ``cap_words`` holds summaries
to ``max_words`` in languages that do not put spaces between words.
"""

from __future__ import annotations

import html
import re
import unicodedata

from nlp_service.text import language
from nlp_service.text.html import html_to_text, looks_like_html

# Word cap for one article: longer input is cut (with a warning), so one 60,000-word article cannot stall a batch.
MAX_WORDS = 20_000
# Character caps, because the word cap counts spaces: 1.1 M characters without one are a single "word". Text
# still longer than MAX_CHARS after the word cap (20,000 words average 6-7 characters) is refused before any
# model or NER sees it; spaCy refuses more than 1,000,000 characters. Input longer than MAX_INPUT_CHARS is
# refused before cleaning, so that no regex or HTML parser runs over a 50 MB cell.
MAX_CHARS = 300_000
MAX_INPUT_CHARS = 5_000_000

_ARTEFACTS = re.compile(r"_x000[dD]_|\[\+\d+ chars\]|\u00a0")
_SPACES = re.compile(r"[ \t\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")


# Control characters (but newline and tab), zero-width and bidi formatting characters, lone surrogates, the
# byte-order mark, the Unicode "noncharacters", the interlinear annotation marks (U+FFF9-FFFB), the musical
# formatting characters (U+1D173-1D17A) and the tag characters (U+E0000-E007F, which can spell out hidden
# instructions): never article text, and some reach a terminal as escapes.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)
# ftfy (a maintained library) repairs mojibake: UTF-8 read as Windows-1252 ("cafÃ©" → "café"), the commonest
# damage in scraped news. Only its encoding fixes: quotes, widths, ligatures and line breaks are left as written.
_FTFY = {
    "unescape_html": False, "remove_terminal_escapes": False, "fix_encoding": True, "restore_byte_a0": False,
    "replace_lossy_sequences": False, "decode_inconsistent_utf8": True, "fix_c1_controls": False,
    "fix_latin_ligatures": False, "fix_character_width": False, "uncurl_quotes": False, "fix_line_breaks": False,
    "fix_surrogates": False, "remove_control_chars": False, "normalization": None, "explain": False,
}
# A "word" for the summary cap: a run of non-space characters, except that each ideograph or kana counts alone
# (Chinese and Japanese put no spaces between words; one character is roughly one word's worth of meaning).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


class InputError(ValueError):
    """An article the service cannot analyse (empty, not text); the message says why."""


def clean_text(text: str) -> str:
    """Undo scraping artefacts (``_x000D_``, HTML entities, odd spaces) and normalise whitespace."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _ARTEFACTS.sub(" ", text).replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def strip_invisible(text: str) -> str:
    """``text`` without control, zero-width, bidi-formatting and surrogate characters."""
    return _INVISIBLE.sub("", text)


def fix_mojibake(text: str) -> str:
    """``text`` with mojibake repaired by ftfy (unchanged when there is none)."""
    import ftfy  # lazy: the CLI's --help need not pay for it

    return ftfy.fix_text(text, ftfy.TextFixerConfig(**_FTFY))


# Quoted speech: “…”, «…», „…“, "…" (up to 600 characters, so an unmatched mark does not eat the article),
# looked for in the first _LANGUAGE_CHARS characters: the language detector reads only the start of what is left.
_LANGUAGE_CHARS = 20_000
_QUOTED = re.compile('“[^”]{0,600}”|«[^»]{0,600}»|„[^“”]{0,600}[“”]|"[^"]{0,600}"')


def without_quotes(text: str) -> str:
    """``text`` without its quotations, for judging its language: an English report that opens with a French
    minister's words is English. The whole text when the quotes are nearly all of it."""
    rest = _QUOTED.sub(" ", text[:_LANGUAGE_CHARS])
    return rest if sum(ch.isalpha() for ch in rest[:2000]) >= 100 else text


def count_words(text: str) -> int:
    """Words as the summary cap counts them: space-separated runs, and each CJK character on its own."""
    return sum(1 for _ in _WORD.finditer(text))


def cap_words(text: str, max_words: int) -> str:
    """``text`` cut after ``max_words`` words (as ``count_words`` counts them), or unchanged if shorter."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    for i, match in enumerate(_WORD.finditer(text)):
        if i == max_words - 1:
            return text[: match.end()].rstrip()
    return text


def prepare(text: object, max_words: int = MAX_WORDS) -> tuple[str, list[str]]:
    """Validate and clean one article. Returns (clean text, warnings); raises InputError for unusable input."""
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise InputError(f"{too_long(len(text), MAX_INPUT_CHARS)}; send the article's text, not a whole file")
    if not text.strip():
        raise InputError("empty text")
    warnings: list[str] = []
    text = strip_invisible(fix_mojibake(text))  # mojibake first: its bytes include C1 controls (\x9d)
    if looks_like_html(text):
        text = html_to_text(text)
        warnings.append("the text was HTML; its title and body text were analysed")
    cleaned = strip_invisible(clean_text(text))  # entities decoded by clean_text may be invisible ones
    if not cleaned:
        raise InputError("empty text after cleaning: only markup, control or invisible characters")
    if len(cleaned.split()) > max_words:
        cleaned = " ".join(cleaned.split()[:max_words])
        warnings.append(f"text longer than {max_words} words was truncated")
    if len(cleaned) > MAX_CHARS:
        raise InputError(
            f"{too_long(len(cleaned), MAX_CHARS)} after cleaning and the {max_words}-word cap "
            "(words are counted at spaces; is it text?)"
        )
    detected = language.detect(without_quotes(cleaned))
    if detected is not None and detected.not_english:
        warnings.append(
            f"text looks like {language.name(detected.code)} ({detected.code}), not English; "
            "the models are trained on English news only"
        )
    return cleaned, warnings


def too_long(chars: int, limit: int) -> str:
    """The start of the message for text over a character limit (the HTTP service answers it with 413)."""
    return f"{TOO_LONG}: {chars:,} characters, at most {limit:,}"


TOO_LONG = "text too long"


def prepare_summary(summary: object) -> str:
    """A summary to check against its article: a string, invisible characters (lone surrogates included, which
    the checker's tokenizer refuses) removed and whitespace collapsed, at most MAX_CHARS characters."""
    if not isinstance(summary, str):
        raise InputError(f"summary must be a string, got {type(summary).__name__}")
    if len(summary) > MAX_CHARS:
        raise InputError(f"summary {too_long(len(summary), MAX_CHARS)}")
    return " ".join(strip_invisible(summary).split())
