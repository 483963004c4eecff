"""Theme evaluator: micro/macro and per-label P/R/F1 over the themes each test article has gold labels for."""

from __future__ import annotations

from training.datasets import LabelledSet
from training.evaluation.metrics import multilabel_report
from training.evaluation.predictions import Predictions


def evaluate_themes(pred: Predictions, data: LabelledSet, themes: list[str]) -> dict | None:
    if pred.theme_pred is None:
        return None
    return multilabel_report(pred.theme_pred, data.theme_labels, data.gold_theme_mask, themes)
