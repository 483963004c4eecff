"""IPTC cue words: how many distinct cue words of each theme the opening of an article holds.

One definition serves both sides: training turns the counts into weak labels for themes without gold labels
(training/weak_labels.py), and the classifier turns them into a cue score for those same themes at inference
(the ``cue_score`` decision rule), mapped to a probability calibrated on the gold-labelled themes."""

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
    forms: dict[str, tuple[str, tuple[str, ...]]]  # a word as it appears → (the cue it is a form of, themes)
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
    # Cues listed in several forms (flood, floods) count once, as their shortest listed form; a single-word cue
    # also matches its plural and verb forms (flood → floods, flooded, flooding). Longer cues are added last, so
    # a listed word keeps its own entry over a generated form of a shorter cue.
    forms: dict[str, tuple[str, tuple[str, ...]]] = {}
    shortest_first = sorted(words, key=len)
    for word in shortest_first:
        canonical = next((w for w in shortest_first if word in _forms(w)), word)
        for form in _forms(word):
            forms.setdefault(form, (canonical, tuple(words[word])))
    for word in words:  # exact listed words always map to their own themes
        forms[word] = (forms[word][0], tuple(words[word]))
    return CueIndex(forms, {k: tuple(v) for k, v in phrases.items()})


def _forms(word: str) -> tuple[str, ...]:
    forms = [word, *(word + suffix for suffix in _SUFFIXES)]
    if word.endswith("e") and len(word) > 3:  # evacuate → evacuated, evacuating
        forms += [word + "d", word[:-1] + "ing"]
    return tuple(forms)


def cue_hits(text: str) -> dict[str, int]:
    """Number of distinct cue words (inflections of one cue counted once) of each theme found in ``text``."""
    index = cue_index()
    tokens = _WORD.findall(text.lower())
    found: dict[str, set[str]] = {t.name: set() for t in load_taxonomy().themes}
    forms = index.forms
    for token in tokens:
        match = forms.get(token)
        if match is None and "-" in token:  # a compound counts as its head: great-grandmother → grandmother
            match = forms.get(token.rsplit("-", 1)[1])
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
