"""IPTC cue words: how many distinct cue words of each theme the opening of an article holds.

One definition serves both sides: training turns the counts into weak labels for themes without gold labels
(training/weak_labels.py), and the classifier turns them into a cue score for those same themes at inference
(``Calibration.cue_*``), mapped to a probability calibrated on the gold-labelled themes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from nlp_service.taxonomy import load_taxonomy

WINDOW_WORDS = 250  # title + lede + the start of the body: where news states what a story is about


_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_SUFFIXES = ("s", "es", "ed", "ing")


@dataclass(frozen=True)
class CueIndex:
    words: dict[str, tuple[str, tuple[str, ...]]]  # single-word cue → (its canonical form, themes)
    phrases: dict[str, tuple[str, ...]]  # multi-word cue (words joined by one space) → themes


@cache
def cue_index() -> CueIndex:
    words: dict[str, list[str]] = {}
    phrases: dict[str, list[str]] = {}
    for theme in load_taxonomy().themes:
        for cue in theme.keywords:
            tokens = _WORD.findall(cue.lower())
            target = words if len(tokens) == 1 else phrases
            target.setdefault(" ".join(tokens), []).append(theme.name)
    # Cues listed in several forms (flood, floods) count once: each maps to its shortest listed form.
    canonical = {w: min((f for f in _base_forms(w) if f in words), key=len) for w in words}
    return CueIndex(
        {k: (canonical[k], tuple(v)) for k, v in words.items()}, {k: tuple(v) for k, v in phrases.items()}
    )


def _base_forms(word: str) -> tuple[str, ...]:
    # A single-word cue also matches its plural and verb forms (flood → floods, flooded, flooding).
    return (word, *(word[: -len(s)] for s in _SUFFIXES if word.endswith(s) and len(word) > len(s) + 2))


def cue_hits(text: str) -> dict[str, int]:
    """Number of distinct cue words (inflections of one cue counted once) of each theme found in ``text``."""
    index = cue_index()
    tokens = _WORD.findall(text.lower())
    found: dict[str, set[str]] = {t.name: set() for t in load_taxonomy().themes}
    for token in tokens:
        match = next((index.words[f] for f in _base_forms(token) if f in index.words), None)
        if match is not None:
            for theme in match[1]:
                found[theme].add(match[0])
    if index.phrases:
        joined = f" {' '.join(tokens)} "
        for phrase, themes in index.phrases.items():
            if f" {phrase} " in joined:
                for theme in themes:
                    found[theme].add(phrase)
    return {name: len(cues) for name, cues in found.items()}


def opening(text: str, words: int = WINDOW_WORDS) -> str:
    return " ".join(text.split()[:words])


def cue_matrix(texts: list[str], themes: list[str], words: int = WINDOW_WORDS) -> np.ndarray:
    """(texts × themes) distinct cue-word counts in the opening ``words`` words of each text."""
    out = np.zeros((len(texts), len(themes)), dtype=np.float32)
    for i, text in enumerate(texts):
        hits = cue_hits(opening(text, words))
        out[i] = [hits.get(t, 0) for t in themes]
    return out
