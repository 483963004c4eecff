"""The decision layer: every rule between the classifier's raw outputs and the labels it reports, in one ordered
pipeline of named, versioned rules (``pipeline.default_rules`` lists them in order, with why each exists).

Each rule has ``fit`` (on validation, through the same ``apply`` that serving runs) and ``apply``; its fitted
values are stored apart from its fixed settings in the checkpoint's ``calibration.json``. A rule that did not
measurably help on validation when it was fitted is stored switched off, with the gain that was measured."""

from nlp_service.classify.decision.pipeline import DecisionPipeline, default_rules
from nlp_service.classify.decision.state import DecisionGold, DecisionInputs, DecisionState

__all__ = ["DecisionGold", "DecisionInputs", "DecisionPipeline", "DecisionState", "default_rules"]
