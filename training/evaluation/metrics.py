"""Multi-label metrics that respect label masks (a label unknown for an article counts neither way)."""

from __future__ import annotations

import numpy as np


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def masked_counts(
    pred: np.ndarray, gold: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label TP, FP, FN over the known cells."""
    pred, gold, mask = pred.astype(bool), gold.astype(bool), mask.astype(bool)
    tp = (pred & gold & mask).sum(0)
    fp = (pred & ~gold & mask).sum(0)
    fn = (~pred & gold & mask).sum(0)
    return tp, fp, fn


def multilabel_report(
    pred: np.ndarray, gold: np.ndarray, mask: np.ndarray, labels: list[str]
) -> dict[str, object]:
    """micro/macro P/R/F1 and per-label rows, over labels with at least one known cell and one positive."""
    tp, fp, fn = masked_counts(pred, gold, mask)
    known = (mask.sum(0) > 0) & ((gold * mask).sum(0) > 0)
    per_label = {}
    for j, name in enumerate(labels):
        if known[j]:
            p, r, f = prf(tp[j], fp[j], fn[j])
            per_label[name] = {
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f, 4),
                "support": int((gold[:, j] * mask[:, j]).sum()),
            }
    mp, mr, mf = prf(tp[known].sum(), fp[known].sum(), fn[known].sum())
    macro = float(np.mean([v["f1"] for v in per_label.values()])) if per_label else 0.0
    return {
        "micro_precision": round(mp, 4),
        "micro_recall": round(mr, 4),
        "micro_f1": round(mf, 4),
        "macro_f1": round(macro, 4),
        "per_label": per_label,
    }


def best_f1_threshold(
    prob: np.ndarray, gold: np.ndarray, grid: np.ndarray | None = None
) -> tuple[float, float]:
    """The threshold on ``prob`` that maximises F1 against ``gold`` (both 1-D)."""
    grid = np.arange(0.05, 0.96, 0.025) if grid is None else grid
    gold_b = gold.astype(bool)
    best = (0.5, -1.0)
    for t in grid:
        pred = prob >= t
        _, _, f = prf(
            float((pred & gold_b).sum()), float((pred & ~gold_b).sum()), float((~pred & gold_b).sum())
        )
        if f > best[1] + 1e-9:
            best = (float(t), f)
    return best


def set_f1(pred: list[set[str]], gold: list[set[str]]) -> dict[str, float]:
    """Micro P/R/F1 between predicted and gold sets (e.g. country codes per article)."""
    tp = sum(len(p & g) for p, g in zip(pred, gold, strict=True))
    fp = sum(len(p - g) for p, g in zip(pred, gold, strict=True))
    fn = sum(len(g - p) for p, g in zip(pred, gold, strict=True))
    p, r, f = prf(tp, fp, fn)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
