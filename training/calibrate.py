"""Fit what turns logits into trustworthy scores and tags, on the validation split: the weight of the gazetteer in
the region scores, per-label Platt scaling, per-label F1-optimal thresholds and the country threshold."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from nlp_service.classifier import Calibration, TopicClassifier, aggregate_chunks, sigmoid
from nlp_service.taxonomy import load_taxonomy
from training.datasets import LabelledSet
from training.evaluation.metrics import best_f1_threshold, multilabel_report, set_f1

log = logging.getLogger(__name__)

MIN_CLASS = 8  # below this many positives (or negatives) a label borrows the pooled scaler/threshold
GAZ_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
# (chunks read per article, aggregation): cheapest first, so a tie keeps the faster reading.
READINGS = ((1, "first"), (2, "mean"), (4, "mean"), (4, "max"))


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(z.reshape(-1, 1), y.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _fit_labels(z: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """Per-label Platt scaling and thresholds; sparse labels use the scaler and threshold of all labels pooled."""
    known = mask.astype(bool)
    pooled_a, pooled_b = _platt(z[known], y[known]) if y[known].any() and (~y[known].astype(bool)).any() else (1, 0)
    pooled_t, _ = best_f1_threshold(sigmoid(pooled_a * z[known] + pooled_b), y[known])
    a_out, b_out, t_out = [], [], []
    for j in range(z.shape[1]):
        zj, yj = z[known[:, j], j], y[known[:, j], j]
        pos, neg = int(yj.sum()), int(len(yj) - yj.sum())
        if pos >= MIN_CLASS and neg >= MIN_CLASS:
            a, b = _platt(zj, yj)
            t, _ = best_f1_threshold(sigmoid(a * zj + b), yj)
        else:
            a, b, t = pooled_a, pooled_b, pooled_t
        a_out.append(a)
        b_out.append(b)
        t_out.append(t)
    return a_out, b_out, t_out


def primary_region_gold(examples, regions: list[str]) -> np.ndarray:
    """Index of each article's primary-country sub-region, -1 where unknown."""
    tax = load_taxonomy()
    out = np.full(len(examples), -1)
    for i, e in enumerate(examples):
        if e.primary_country and tax.has_country(e.primary_country):
            r = tax.region_of(e.primary_country)
            if r is not None and r.name in regions:
                out[i] = regions.index(r.name)
    return out


def fit_calibration(served: TopicClassifier, val: LabelledSet) -> tuple[Calibration, dict]:
    """Choose how many chunks to read and how to pool them, then fit scalers and thresholds for that reading.
    Sets ``served.cfg.max_chunks`` to the chosen reading."""
    cfg = served.cfg
    cfg.max_chunks = max(c for c, _ in READINGS)
    theme_chunk, region_chunk, owner = served.chunk_logits(val.texts)
    mentions, gaz = served.gazetteer_features(val.texts)
    primary = primary_region_gold(val.examples, cfg.regions)
    gold_mask = val.theme_mask * (val.theme_weights >= 1.0)
    best: tuple[float, Calibration, dict] | None = None
    for chunks, how in READINGS:
        theme_z = aggregate_chunks(theme_chunk, owner, len(val), how, chunks)
        region_z = aggregate_chunks(region_chunk, owner, len(val), how, chunks)
        cal, metrics = _fit_reading(served, val, theme_z, region_z, gaz, mentions, primary, gold_mask)
        cal.chunk_aggregation = how
        metrics |= {"max_chunks": chunks, "chunk_aggregation": how}
        score = metrics["theme_micro_f1"] + metrics["primary_region_accuracy"]
        log.info("reading %s x%d: %s", how, chunks, metrics)
        if best is None or score > best[0] + 0.002:
            best = (score, cal, metrics)
    _, cal, metrics = best
    cfg.max_chunks = metrics["max_chunks"]
    return cal, metrics


def _fit_reading(served, val, theme_z, region_z, gaz, mentions, primary, gold_mask) -> tuple[Calibration, dict]:
    cfg = served.cfg
    has_primary = primary >= 0

    # Gazetteer weight: the one that puts the right sub-region first most often on validation.
    def accuracy(w: float) -> float:
        if not has_primary.any():
            return 0.0
        return float((np.argmax(region_z + w * gaz, 1)[has_primary] == primary[has_primary]).mean())

    gaz_weight = max(GAZ_WEIGHTS, key=accuracy) if has_primary.any() else 0.0
    theme_a, theme_b, theme_t = _fit_labels(theme_z, val.theme_labels, val.theme_mask)
    rz = region_z + gaz_weight * gaz
    region_a, region_b, region_t = _fit_labels(rz, val.region_labels, val.region_mask)
    cal = Calibration(theme_a, theme_b, theme_t, region_a, region_b, region_t, gaz_weight=gaz_weight)

    # Country threshold: best country micro-F1 on articles whose countries are known.
    region_p = sigmoid(rz * np.array(region_a) + np.array(region_b))
    known = [i for i, e in enumerate(val.examples) if e.countries is not None]
    scored = [served.country_scores(mentions[i], region_p[i]) for i in known]
    gold = [set(val.examples[i].countries or []) for i in known]
    best = (0.5, -1.0)
    for t in np.arange(0.05, 0.96, 0.025):
        f = set_f1([{c for c, s in sc if s >= t} for sc in scored], gold)["f1"]
        if f > best[1]:
            best = (float(t), f)
    cal.country_threshold = best[0]

    theme_p = sigmoid(theme_z * np.array(theme_a) + np.array(theme_b))
    theme_rep = multilabel_report(theme_p >= np.array(theme_t), val.theme_labels, gold_mask, cfg.themes)
    metrics = {
        "theme_micro_f1": theme_rep["micro_f1"],
        "theme_macro_f1": theme_rep["macro_f1"],
        "primary_region_accuracy": round(accuracy(gaz_weight), 4),
        "primary_region_accuracy_head_only": round(accuracy(0.0), 4),
        "gaz_weight": gaz_weight,
        "country_micro_f1": round(best[1], 4),
        "country_threshold": best[0],
    }
    return cal, metrics
