"""The description rule for themes without any human label in training: a theme is reported with
``fitted.score`` where its description (name, definition, first cue words) is the article's closest of all
themes in the classifier's own embedding space, by at least ``fitted.threshold`` over the article's mean, and the
article's opening holds at least ``min_cues`` of its cue words. Threshold and score are fitted on the
human-labelled themes: the lowest threshold at which the rule is right at least ``target_precision`` of the time,
and the precision it then has."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.classify.decision.base import Rule
from nlp_service.classify.decision.state import DecisionGold, DecisionState
from nlp_service.classify.descriptions import closest


@dataclass
class DescriptionSettings:
    min_cues: int = 1
    target_precision: float = 0.8
    grid: tuple[float, ...] = tuple(round(float(x), 2) for x in np.arange(0.02, 0.305, 0.01))
    min_articles: int = 5


@dataclass
class DescriptionFitted:
    themes: list[str] = field(default_factory=list)
    threshold: float = 0.0
    score: float = 0.0  # 0 = the rule never fires


class DescriptionRule(Rule):
    name = "description"
    target = "themes"
    why = "short stories rarely hold three cue words; closeness to the theme's description finds more of them"
    Settings = DescriptionSettings
    Fitted = DescriptionFitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        i = state.inputs
        themes = [t for t in gold.description_themes if t in i.themes]
        sim = i.similarity
        gold_cols = gold.labelled_columns(i.themes, themes)
        self.fitted = DescriptionFitted(themes)
        if not themes or sim is None or not gold_cols:
            return
        s = self.settings
        known = gold.theme_mask[:, gold_cols] > 0
        labels = gold.theme_labels[:, gold_cols] > 0
        cued = (i.cue_hits[:, gold_cols] >= s.min_cues) & closest(sim)[:, gold_cols]
        for tau in s.grid:
            fired = (sim[:, gold_cols] >= tau) & cued & known
            if fired.sum() >= s.min_articles and labels[fired].mean() >= s.target_precision:
                self.fitted = DescriptionFitted(themes, float(tau), round(float(labels[fired].mean()), 4))
                return

    def apply(self, state: DecisionState) -> None:
        f = self.fitted
        i = state.inputs
        cols = [j for j, t in enumerate(i.themes) if t in f.themes]
        if not cols or f.score <= 0:
            return
        sim = i.similarity
        if sim is None:
            return
        fired = (sim >= f.threshold) & closest(sim) & (i.cue_hits >= self.settings.min_cues)
        state.theme_p[:, cols] = np.maximum(state.theme_p[:, cols], np.where(fired[:, cols], f.score, 0.0))
