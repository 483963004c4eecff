"""Numbers for the name-and-number rule: every number of a text with its value, so that "2,000" = "2000" =
"two thousand" and "1.5bn" = "1.5 billion".

Digits with separators, decimals, currency (£ $ € ¥ ₹), scale words and abbreviations ("1.5bn", "2,000", "£3m",
"5 per cent", "1990s", "21st") and number words ("three", "twenty-five", "two million") are normalised to
values. The lone word "one" is found but not checked (it is mostly a pronoun); vague plurals ("hundreds",
"millions") are not numbers here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp_service.summarize.verify.forms import APOSTROPHES, fold

_CURRENCY = {"£": "GBP", "$": "USD", "us$": "USD", "€": "EUR", "¥": "JPY", "₹": "INR"}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12,
}
_NUMBER = re.compile(
    r"(?<![\w.,])(?<![A-Za-z]-)"  # not inside a word or a code ("COVID-19", "F-35")
    r"(?P<cur>US\$|[£$€¥₹])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:[\s-]?(?P<scale>hundred|thousand|million|billion|trillion)\b"  # "12 million", "12-million-euro"
    r"|(?P<abbr>bn|mn|mln|trn|tn|m|k|b)\b"
    r"|(?P<pct>\s?%|\s?per\s?cent\b|\s?percent\b)"
    r"|(?:st|nd|rd|th|s)\b)?"
    r"(?![^\W\d_])"
)
_UNITS = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_WORD_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


@dataclass(frozen=True)
class NumberMention:
    surface: str
    value: float
    currency: str | None = None
    checked: bool = True  # False for mentions never required to be supported (the pronoun-like "one")

    @property
    def key(self) -> float:
        return float(f"{self.value:.6g}")


def _word_value(word: str) -> int | None:
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    if "-" in word:
        a, _, b = word.partition("-")
        if a in _TENS and b in _UNITS and 0 < _UNITS[b] < 10:
            return _TENS[a] + _UNITS[b]
    return None


def _number_words(text: str) -> list[NumberMention]:
    """'three', 'twenty-five', 'two million', 'a dozen', 'one hundred and five' → values."""
    words = [(m.group(), fold(m.group())) for m in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)?", text)]
    out: list[NumberMention] = []
    i = 0
    while i < len(words):
        surface, w = words[i]
        start_value = _word_value(w)
        if start_value is None and w in ("a", "an") and i + 1 < len(words) and words[i + 1][1] in (
            "dozen", *_WORD_SCALES
        ):
            start_value = 1
        if start_value is None:
            i += 1
            continue
        total, current, j, parts = 0.0, float(start_value), i + 1, [surface]
        while j < len(words):
            nxt = words[j][1]
            if nxt == "dozen":
                current *= 12
            elif nxt == "hundred":
                current *= 100
            elif nxt in _WORD_SCALES:
                total += current * _WORD_SCALES[nxt]
                current = 0.0
            elif nxt == "and" and j + 1 < len(words) and _word_value(words[j + 1][1]) is not None and parts:
                j += 1
                continue
            elif (v := _word_value(nxt)) is not None and (
                (current >= 100 and current % 100 == 0)
                or (20 <= current < 100 and current % 10 == 0 and v < 10)
            ):
                current += v
            else:
                break
            parts.append(words[j][0])
            j += 1
        lone_one = len(parts) == 1 and w == "one"
        out.append(NumberMention(" ".join(parts), total + current, checked=not lone_one))
        i = j
    return out


def extract_numbers(text: str) -> list[NumberMention]:
    """Every number of ``text`` with its value (digits and number words)."""
    text = text.translate(APOSTROPHES)
    out = []
    for m in _NUMBER.finditer(text):
        value = float(m["num"].replace(",", ""))
        scale = m["scale"] or m["abbr"]
        if scale:
            value *= _SCALES[scale.lower()]
        cur = _CURRENCY.get((m["cur"] or "").lower())
        out.append(NumberMention(m.group().strip(), value, cur))
    return out + _number_words(text)
