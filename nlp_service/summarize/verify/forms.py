"""The forms the name-and-number rule compares text in: case, accents, apostrophe and dash variants folded."""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "–": "-", "—": "-", "‐": "-"})
POSSESSIVE = re.compile(r"'s?$")


def fold(text: str) -> str:
    """Lower case, accents and apostrophe/dash variants removed: the form names are compared in."""
    text = unicodedata.normalize("NFKD", text.translate(APOSTROPHES))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def norm_token(token: str) -> str:
    """A token's folded form without a possessive ending or dots ("Russia's" → "russia", "U.S." → "us")."""
    return POSSESSIVE.sub("", fold(token)).replace(".", "")
