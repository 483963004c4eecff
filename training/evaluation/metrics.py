"""Multi-label metrics that respect label masks (a label unknown for an article counts neither way)."""

from __future__ import annotations

import numpy as np

# The decision rules fit against the same scores the evaluation reports: one definition of each.
from nlp_service.classify.decision import best_f1_threshold, prf, set_f1

__all__ = ["best_f1_threshold", "masked_counts", "multilabel_report", "prf", "set_f1"]


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
