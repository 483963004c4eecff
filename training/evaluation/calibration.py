"""Calibration evaluator: do the scores mean what they say?

Over every (article, label) pair whose label is known: expected calibration error (ECE, equal-width bins), Brier
score and a reliability table; and over the labels a model *reports* (decision on), their mean score next to their
precision, which is what a user reading "politics 0.9" relies on."""

from __future__ import annotations

import numpy as np

BINS = 10


def evaluate_calibration(
    score: np.ndarray | None, decision: np.ndarray | None, labels: np.ndarray, known: np.ndarray, bins: int = BINS
) -> dict | None:
    """``score``: (n, labels) probabilities; ``decision``: what the model reports; ``known``: 1 where gold."""
    if score is None:
        return None
    keep = known > 0
    p = np.clip(score[keep].astype(np.float64), 0.0, 1.0)
    y = labels[keep].astype(np.float64)
    if not len(p):
        return None
    which = np.minimum((p * bins).astype(int), bins - 1)  # bin b holds [b/bins, (b+1)/bins); 1.0 goes last
    table, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        if not sel.any():
            continue
        conf, freq = float(p[sel].mean()), float(y[sel].mean())
        ece += sel.mean() * abs(conf - freq)
        table.append(
            {"bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}", "pairs": int(sel.sum()), "mean_score": round(conf, 4),
             "positive_rate": round(freq, 4)}
        )
    out = {"pairs": int(len(p)), "ece": round(float(ece), 4), "brier": round(float(((p - y) ** 2).mean()), 4),
           "reliability": table}
    if decision is not None:
        on = decision[keep].astype(bool)
        if on.any():
            out["reported"] = {
                "labels": int(on.sum()),
                "mean_score": round(float(p[on].mean()), 4),
                "precision": round(float(y[on].mean()), 4),
            }
    return out
