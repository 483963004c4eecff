"""Single-topic accuracy (BBC): the highest-scoring of the source's mapped themes must be the gold one."""

from __future__ import annotations

import numpy as np

from nlp_service.taxonomy import BBC_THEME_MAP
from training.datasets import LabelledSet
from training.evaluation.predictions import Predictions


def evaluate_single_topic(pred: Predictions, data: LabelledSet, themes: list[str]) -> dict | None:
    if pred.theme_score is None:
        return None
    candidates = sorted({themes.index(t) for t in BBC_THEME_MAP.values()})
    gold = np.array([themes.index(next(t for t, v in e.themes.items() if v)) for e in data.examples])
    chosen = np.array(candidates)[pred.theme_score[:, candidates].argmax(1)]
    return {"accuracy": round(float((chosen == gold).mean()), 4), "articles": len(gold)}
