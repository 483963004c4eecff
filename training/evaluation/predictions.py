"""What every model under evaluation hands the evaluators: scores and decisions over the taxonomy's labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Predictions:
    name: str
    theme_score: np.ndarray | None = None  # (n, themes) probability-like
    theme_pred: np.ndarray | None = None  # (n, themes) bool
    region_score: np.ndarray | None = None  # (n, regions)
    region_pred: np.ndarray | None = None  # (n, regions) bool
    countries: list[set[str]] | None = None  # ISO codes per article
    seconds: float = 0.0
    # Whether region_score holds one probability per sub-region (a multinomial model's softmax over sub-regions,
    # or a gazetteer's mention scores, do not, so their calibration is not reported).
    region_probabilities: bool = True
    country_ranking: list[list[str]] | None = None  # reported countries per article, best first
    # surfaces of the mentions behind each mentioned country, per article (models that read mentions only)
    country_mentions: list[dict[str, list[str]]] | None = None
