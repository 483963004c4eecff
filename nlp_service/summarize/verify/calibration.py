"""The consistency checker's calibration: how the model's logit and the rule's verdict on a summary sentence become
P(supported), and the threshold above which the sentence passes.

    P(supported) = σ(model_weight · logit + rule_weight · [rule fails] + bias);  supported when P ≥ threshold

``VerifyCalibration.fit`` learns it on held-out labelled summary sentences (``training.calibrate_faithfulness``):
a logistic regression on (logit, rule fails), classes weighted equally, then the threshold that maximises
balanced accuracy. ``apply`` scores a sentence. The fitted values are stored in the checker's ``config.json``
under ``"calibration"`` and read strictly (``from_config``): a missing or unknown key is an error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_KEY = "calibration"  # the section of the checker's config.json
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)  # thresholds ``fit`` tries
LOGIT_CLIP = 40.0  # |z| beyond this saturates σ anyway; the clip keeps math.exp from overflowing


def balanced_accuracy(prob: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """Mean of the pass rate of supported (label 1) and the fail rate of unsupported (label 0) items."""
    pred = prob >= threshold
    pos, neg = labels == 1, labels == 0
    return 0.5 * (pred[pos].mean() + (~pred[neg]).mean())


@dataclass(frozen=True)
class VerifyCalibration:
    """The fitted combination of the checker's evidence (module docstring). The defaults stand for a checker
    that is trained but not calibrated yet (its config.json has no "calibration" section)."""

    model_weight: float = 1.0
    rule_weight: float = -6.0
    bias: float = 0.0
    threshold: float = 0.5
    fitted_on: str = "not fitted"

    @classmethod
    def rule_only(cls) -> VerifyCalibration:
        """Without a model the rule decides: P = σ(3) ≈ 0.95 when it passes, σ(-3) ≈ 0.05 when it fails."""
        return cls(model_weight=0.0, rule_weight=-6.0, bias=3.0)

    def apply(self, logit: float | None, rule_fails: bool) -> float:
        """P(supported) of one summary sentence (``logit`` None: no model read it)."""
        z = self.bias + (self.model_weight * logit if logit is not None else 0.0) + (
            self.rule_weight if rule_fails else 0.0)
        return 1.0 / (1.0 + math.exp(-max(-LOGIT_CLIP, min(LOGIT_CLIP, z))))

    @classmethod
    def fit(cls, logits: Sequence[float], rule_fails: Sequence[bool], labels: Sequence[int],
            fitted_on: str) -> VerifyCalibration:
        """Fit the weights and the threshold on summary sentences the model decides (not copied text, which always
        passes: counting copies would reward flagging every sentence that is not one), labelled 1 (supported) or
        0. Classes are weighted equally, so P is calibrated for a sentence as likely supported as not, whatever
        the mix of the fitting set."""
        from sklearn.linear_model import LogisticRegression  # lazy: fitting only; serving never loads scikit-learn

        x = np.array([[z, float(r)] for z, r in zip(logits, rule_fails, strict=True)])
        y = np.asarray(labels)
        lr = LogisticRegression(C=10.0, class_weight="balanced").fit(x, y)
        weights = cls(model_weight=float(lr.coef_[0][0]), rule_weight=float(lr.coef_[0][1]),
                      bias=float(lr.intercept_[0]), fitted_on=fitted_on)
        prob = np.array([weights.apply(z, r) for z, r in zip(logits, rule_fails, strict=True)])
        scores = [balanced_accuracy(prob, y, t) for t in THRESHOLD_GRID]
        return cls(**{**asdict(weights), "threshold": float(THRESHOLD_GRID[int(np.argmax(scores))])})

    @classmethod
    def from_config(cls, config: dict[str, Any], path: str | Path) -> VerifyCalibration:
        """The calibration in a checker's config.json (``config``, read from ``path``, which errors name). No
        "calibration" section: the unfitted defaults. A section with a missing or unknown key, or a value of
        the wrong type: ValueError."""
        if CALIBRATION_KEY not in config:
            return cls()
        data = config[CALIBRATION_KEY]
        if not isinstance(data, dict):
            raise ValueError(f"{path}: {CALIBRATION_KEY!r} must be an object, not {type(data).__name__}")
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                raise ValueError(f"{path}: unknown key {CALIBRATION_KEY}.{key} (known: {', '.join(names)})")
        for name in names:
            if name not in data:
                raise ValueError(f"{path}: {CALIBRATION_KEY}.{name} is missing")
            value = data[name]
            wanted = str if name == "fitted_on" else (int, float)
            if isinstance(value, bool) or not isinstance(value, wanted):
                raise ValueError(f"{path}: {CALIBRATION_KEY}.{name} must be a "
                                 f"{'string' if wanted is str else 'number'}, not {value!r}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
