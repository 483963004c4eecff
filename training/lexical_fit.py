"""Fit the TF-IDF lexical expert (nlp_service.classify.lexical) on the training split, with the same label masks and
weights as the transformer."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from nlp_service.classify import LexicalModel
from nlp_service.classify.lexical import make_vectorizer
from training.datasets import LabelledSet

log = logging.getLogger(__name__)
ABSENT_BIAS = (
    -6.0
)  # a label never seen positive in training: a confident "no" that calibration can still move
# Articles labelled for every theme under the annotation guideline (the gold set, ~1,000 of ~4,500 training
# articles) weigh this many times their partial-source neighbours in the lexical expert: they are the only
# examples of the rare themes and of the guideline's definitions. Chosen on gold validation theme micro-F1
# among 1, 3, 6 and 10 (docs/classifier.md, "Trade-offs measured").
COMPLETE_ROW_WEIGHT = 6.0


def _fit_heads(x, labels: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.zeros((labels.shape[1], x.shape[1]), dtype=np.float32)
    b = np.full(labels.shape[1], ABSENT_BIAS, dtype=np.float32)
    for j in range(labels.shape[1]):
        rows = mask[:, j] > 0
        y = labels[rows, j]
        if rows.sum() == 0 or y.sum() == 0 or y.sum() == len(y):
            continue
        lr = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        lr.fit(x[rows], y.astype(int), sample_weight=weights[rows, j])
        w[j], b[j] = lr.coef_[0], lr.intercept_[0]
    return w, b


def fit_lexical(train: LabelledSet, max_features: int = 50_000,
                complete_weight: float = COMPLETE_ROW_WEIGHT) -> LexicalModel:
    """``complete_weight`` multiplies the theme-label weights of the articles labelled for every theme."""
    # n-grams seen in one article only are noise in a real corpus, but all there is in a tiny one
    vec = make_vectorizer(max_features=max_features, min_df=2 if len(train) >= 50 else 1)
    x = vec.fit_transform(train.texts)
    weights = train.theme_weights * np.where(train.complete_rows, complete_weight, 1.0)[:, None]
    theme_w, theme_b = _fit_heads(x, train.theme_labels, train.theme_mask, weights)
    region_w, region_b = _fit_heads(x, train.region_labels, train.region_mask, train.region_mask)
    log.info("lexical expert: %d features", x.shape[1])
    return LexicalModel(vec, theme_w, theme_b, region_w, region_b)
