"""Region evaluator: primary sub-region accuracy, sub-region micro-F1 and country micro-F1."""

from __future__ import annotations

import numpy as np

from training.calibrate import primary_region_gold
from training.datasets import LabelledSet
from training.evaluation.metrics import multilabel_report, set_f1
from training.evaluation.predictions import Predictions


def evaluate_regions(pred: Predictions, data: LabelledSet, regions: list[str]) -> dict | None:
    out: dict = {}
    if pred.region_score is not None:
        primary = primary_region_gold(data.examples, regions)
        has = primary >= 0
        out["primary_region_accuracy"] = round(
            float((pred.region_score.argmax(1)[has] == primary[has]).mean()), 4
        )
        out["primary_region_articles"] = int(has.sum())
    if pred.region_pred is not None:
        rep = multilabel_report(pred.region_pred, data.region_labels, data.region_mask, regions)
        out["region_micro_f1"] = rep["micro_f1"]
        out["region_macro_f1"] = rep["macro_f1"]
    if pred.countries is not None:
        known = [i for i, e in enumerate(data.examples) if e.countries is not None]
        out["country"] = set_f1(
            [pred.countries[i] for i in known], [set(data.examples[i].countries) for i in known]
        )
        out["country_micro_f1"] = out["country"]["f1"]
        firsts = [i for i in known if data.examples[i].primary_country]
        out["primary_country_in_predictions"] = round(
            float(np.mean([data.examples[i].primary_country in pred.countries[i] for i in firsts])), 4
        )
        if pred.country_ranking is not None:
            top = [pred.country_ranking[i][:1] == [data.examples[i].primary_country] for i in firsts]
            out["primary_country_top1"] = round(float(np.mean(top)), 4) if top else None
    return out or None
