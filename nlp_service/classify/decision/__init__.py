"""The decision layer: every rule between the classifier's raw outputs and the labels it reports. The named,
versioned rules run as one ordered pipeline (``RULE_TYPES`` lists them in order, with why each exists); the
pooling of a long article's chunks comes before them and the caller's ``top_k`` cut after them.

Each pipeline rule has ``fit`` (on validation, through the same ``apply`` that serving runs) and ``apply``; its
fitted values are stored apart from its fixed settings in the checkpoint's ``calibration.json``. A rule that did not
measurably help on validation articles it was not fitted on (``PRUNE_FOLDS``) is stored switched off, with the
gain that was measured."""

from nlp_service.classify.decision.chunk_pooling import DEFAULT_POOLING, EMBEDDING_POOLING, POOLINGS, pool_chunks
from nlp_service.classify.decision.lexical import primary_accuracy
from nlp_service.classify.decision.metrics import best_f1_threshold, masked_micro_f1, prf, set_f1
from nlp_service.classify.decision.pipeline import (
    MIN_GAIN,
    PRUNE_FOLDS,
    RULE_TYPES,
    Ablation,
    DecisionPipeline,
    default_rules,
)
from nlp_service.classify.decision.state import DecisionGold, DecisionInputs, DecisionState
from nlp_service.classify.decision.top_k import DEFAULT_TOP_K, cut_top_k

__all__ = [
    "DEFAULT_POOLING", "DEFAULT_TOP_K", "EMBEDDING_POOLING", "MIN_GAIN", "POOLINGS", "PRUNE_FOLDS", "RULE_TYPES",
    "Ablation", "DecisionGold", "DecisionInputs", "DecisionPipeline", "DecisionState", "best_f1_threshold",
    "cut_top_k", "default_rules", "masked_micro_f1", "pool_chunks", "prf", "primary_accuracy", "set_f1",
]
