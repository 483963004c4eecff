"""Simple baselines scored in the same run as the model: TF-IDF + logistic regression (RESOURCES.md's recipe) and
a gazetteer-only region/country tagger."""

from __future__ import annotations

import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp_service.places import load_gazetteer
from training.calibrate import primary_region_gold
from training.datasets import LabelledSet
from training.evaluation.metrics import set_f1
from training.evaluation.predictions import Predictions


class LinearProbes:
    """Logistic regressions over any feature matrix: one per theme (C=10, balanced), trained on gold labels only,
    and a multinomial one for the primary sub-region."""

    def __init__(self, max_iter: int = 2000):
        self.max_iter = max_iter

    def fit(self, x, train: LabelledSet, themes: list[str], regions: list[str]) -> LinearProbes:
        self.themes, self.regions = themes, regions
        gold = train.gold_theme_mask > 0
        self.theme_models: dict[int, LogisticRegression] = {}
        for j in range(len(themes)):
            rows = gold[:, j]
            y = train.theme_labels[rows, j]
            if rows.sum() and 0 < y.sum() < len(y):
                self.theme_models[j] = LogisticRegression(
                    C=10, class_weight="balanced", max_iter=self.max_iter
                ).fit(x[rows], y)
        primary = primary_region_gold(train.examples, regions)
        has = primary >= 0
        self.region_model = (
            LogisticRegression(C=10, max_iter=self.max_iter).fit(x[has], primary[has])
            if len(set(primary[has])) > 1
            else None
        )
        return self

    def theme_scores(self, x) -> np.ndarray:
        """(n, themes) probabilities; 0 for themes the training data had no gold labels for."""
        score = np.zeros((x.shape[0], len(self.themes)), dtype=np.float32)
        for j, m in self.theme_models.items():
            score[:, j] = m.predict_proba(x)[:, 1]
        return score

    def region_scores(self, x) -> np.ndarray:
        """(n, regions) primary sub-region probabilities."""
        score = np.zeros((x.shape[0], len(self.regions)), dtype=np.float32)
        if self.region_model is not None:
            score[:, self.region_model.classes_] = self.region_model.predict_proba(x)
        return score


class TfidfBaseline:
    """TF-IDF 1–2-grams (sublinear tf, min_df 2) + one logistic regression per theme (C=10, balanced), trained on
    gold labels only; a multinomial logistic regression for the primary sub-region."""

    name = "tfidf+logreg"

    def fit(self, train: LabelledSet, themes: list[str], regions: list[str]) -> TfidfBaseline:
        self.vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.probes = LinearProbes().fit(self.vec.fit_transform(train.texts), train, themes, regions)
        return self

    def predict(self, data: LabelledSet) -> Predictions:
        start = time.time()
        x = self.vec.transform(data.texts)
        score, region_score = self.probes.theme_scores(x), self.probes.region_scores(x)
        region_pred = np.zeros_like(region_score, dtype=bool)
        region_pred[np.arange(len(data)), region_score.argmax(1)] = True
        return Predictions(
            self.name, score, score >= 0.5, region_score, region_pred, None, time.time() - start,
            region_probabilities=False,
        )


class GazetteerBaseline:
    """Regions and countries from country mentions alone (names, demonyms, capitals, cities)."""

    name = "gazetteer only"

    def fit(self, validation: LabelledSet, regions: list[str]) -> GazetteerBaseline:
        self.regions = regions
        self.gaz = load_gazetteer()
        mentions = [self.gaz.find(t) for t in validation.texts]
        known = [i for i, e in enumerate(validation.examples) if e.countries is not None]
        gold = [set(validation.examples[i].countries) for i in known]
        self.threshold = max(
            np.arange(0.05, 0.96, 0.05),
            key=lambda t: set_f1([{m.code for m in mentions[i] if m.score >= t} for i in known], gold)["f1"],
        )
        return self

    def predict(self, data: LabelledSet) -> Predictions:
        start = time.time()
        mentions = [self.gaz.find(t) for t in data.texts]
        region_score = np.zeros((len(data), len(self.regions)), dtype=np.float32)
        for i, m in enumerate(mentions):
            for name, s in self.gaz.region_scores(m).items():
                if name in self.regions:
                    region_score[i, self.regions.index(name)] = s
        ranking = [[m.code for m in ms if m.score >= self.threshold] for ms in mentions]
        countries = [set(r) for r in ranking]
        return Predictions(
            self.name,
            None,
            None,
            region_score,
            region_score >= self.threshold,
            countries,
            time.time() - start,
            region_probabilities=False,
            country_ranking=ranking,
        )
