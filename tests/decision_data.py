"""Synthetic decision-layer inputs for tests: random logits that carry the labels' signal."""

from __future__ import annotations

import numpy as np

from nlp_service.classify.decision import DecisionGold, DecisionInputs, DecisionState


def synthetic_inputs(n: int, themes: list[str], regions: list[str], rng: np.random.Generator, signal: float = 2.0):
    theme_labels = (rng.random((n, len(themes))) < 0.3).astype(np.float32)
    region_labels = np.zeros((n, len(regions)), dtype=np.float32)
    primary = rng.integers(0, len(regions), size=n)
    region_labels[np.arange(n), primary] = 1.0
    inputs = DecisionInputs(
        texts=["text"] * n,
        themes=themes,
        regions=regions,
        theme_logits=(signal * (2 * theme_labels - 1) + rng.normal(0, 1.5, theme_labels.shape)).astype(np.float32),
        region_logits=(signal * (2 * region_labels - 1) + rng.normal(0, 1.5, region_labels.shape)).astype(np.float32),
        mentions=[[] for _ in range(n)],
        gazetteer=np.zeros((n, len(regions)), dtype=np.float32),
    )
    gold = DecisionGold(
        theme_labels, np.ones_like(theme_labels), region_labels, np.ones_like(region_labels), primary,
        [None] * n,
    )
    return inputs, gold, DecisionState.start(inputs)
