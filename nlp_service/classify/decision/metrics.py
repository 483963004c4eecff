"""The few scores the rules fit against (and that the evaluation reports): F1 from counts, the F1-optimal
threshold of one label, micro-F1 of masked multi-label decisions and of sets."""

from __future__ import annotations

import numpy as np

THRESHOLD_GRID = np.arange(0.05, 0.96, 0.025)


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def best_f1_threshold(prob: np.ndarray, gold: np.ndarray, grid: np.ndarray | None = None) -> tuple[float, float]:
    """The threshold on ``prob`` that maximises F1 against ``gold`` (both 1-D)."""
    grid = THRESHOLD_GRID if grid is None else grid
    gold_b = gold.astype(bool)
    best = (0.5, -1.0)
    for t in grid:
        pred = prob >= t
        _, _, f = prf(float((pred & gold_b).sum()), float((pred & ~gold_b).sum()), float((~pred & gold_b).sum()))
        if f > best[1] + 1e-9:
            best = (float(t), f)
    return best


def masked_micro_f1(pred: np.ndarray, gold: np.ndarray, mask: np.ndarray) -> float:
    known = mask > 0
    p, g = pred.astype(bool) & known, gold.astype(bool) & known
    return prf(float((p & g).sum()), float((p & ~g).sum()), float((~p & g).sum()))[2]


def set_f1(pred: list[set[str]], gold: list[set[str]]) -> dict[str, float]:
    """Micro P/R/F1 between predicted and gold sets (e.g. country codes per article)."""
    tp = sum(len(p & g) for p, g in zip(pred, gold, strict=True))
    fp = sum(len(p - g) for p, g in zip(pred, gold, strict=True))
    fn = sum(len(g - p) for p, g in zip(pred, gold, strict=True))
    p, r, f = prf(tp, fp, fn)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
