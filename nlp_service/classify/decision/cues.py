"""Cue-word scores for themes whose training labels were not (fully) human: the probability, measured on the
human-labelled themes of the validation split, that an article whose opening holds k distinct cue words of a
theme has that theme. It stands from the first k whose measured precision reaches ``min_precision``, and the
theme's score is the larger of the model's and the cue score."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.state import DecisionGold, DecisionState


@dataclass
class CueSettings:
    max_hits: int = 5  # counts from here on share one score
    min_precision: float = 0.8  # a wrong tag costs users more than a missing one
    min_articles: int = 5  # a (theme, k) cell needs this many validation articles to count


@dataclass
class CueFitted:
    themes: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # index k = k cue words
    min_hits: int = 0  # 0 = the rule never fires


class CueScore(Rule):
    name = "cue_score"
    target = "themes"
    why = "themes without human labels in training would otherwise rest on weak labels alone"
    Settings = CueSettings
    Fitted = CueFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        themes = state.inputs.themes
        gold_cols = gold.labelled_columns(themes, gold.cue_themes)
        cue_themes = [t for t in gold.cue_themes if t in themes]
        if not gold_cols or not cue_themes:
            self.fitted = CueFitted()
            return
        s = self.settings
        hits = np.minimum(state.inputs.cue_hits, s.max_hits)
        scores = [0.0]
        for k in range(1, s.max_hits + 1):
            per_theme = []
            for j in gold_cols:
                known = gold.theme_mask[:, j] > 0
                at_k = hits[known, j] == k
                if at_k.sum() >= s.min_articles:
                    per_theme.append(float(gold.theme_labels[known, j][at_k].mean()))
            scores.append(float(np.mean(per_theme)) if per_theme else scores[-1])
        scores = [round(float(x), 4) for x in np.maximum.accumulate(scores)]
        min_hits = next((k for k in range(1, len(scores)) if scores[k] >= s.min_precision), 0)
        self.fitted = CueFitted(cue_themes, scores, min_hits)

    def apply(self, state: DecisionState) -> None:
        f = self.fitted
        cols = [j for j, t in enumerate(state.inputs.themes) if t in f.themes]
        if not cols or not f.min_hits:
            return
        hits = state.inputs.cue_hits[:, cols]
        table = np.array(f.scores, dtype=np.float32)
        score = np.where(hits >= f.min_hits, table[np.minimum(hits, len(table) - 1)], 0.0)
        state.theme_p[:, cols] = np.maximum(state.theme_p[:, cols], score)
