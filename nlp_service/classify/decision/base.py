"""The shape every decision rule shares: fixed settings and fitted values as two dataclasses, ``fit`` and
``apply`` over a DecisionState, and what the state gets when the rule is switched off (``bypass``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from nlp_service.classify.decision.state import DecisionGold, DecisionState


@dataclass
class NoSettings:
    pass


@dataclass
class NotFitted:
    pass


class Rule:
    name: ClassVar[str]
    version: ClassVar[int] = 1
    target: ClassVar[str]  # what it changes, and so what its ablation measures: themes, regions or countries
    core: ClassVar[bool] = False  # core rules (scaling, thresholds, countries) are never switched off
    # A rule whose inputs are read from the text rather than from the fine-tuned model may also fit on the training
    # split's fully labelled articles (more examples of a rare case), where the model's own scores would be biased.
    fits_on_training_rows: ClassVar[bool] = False
    why: ClassVar[str]  # one line for the docs and the model card
    Settings: ClassVar[type] = NoSettings
    Fitted: ClassVar[type] = NotFitted

    def __init__(self, settings: Any = None, fitted: Any = None, enabled: bool = True, gain: float | None = None):
        self.settings = settings if settings is not None else self.Settings()
        self.fitted = fitted if fitted is not None else self.Fitted()
        self.enabled = enabled
        self.gain = gain  # validation metric with the rule minus without it, measured when fitted

    def fit(self, state: DecisionState, gold: DecisionGold) -> None:
        """Fit on validation; ``state`` is what the rules before this one made of the validation inputs."""

    def apply(self, state: DecisionState) -> None:
        raise NotImplementedError

    def bypass(self, state: DecisionState) -> None:
        """What the state becomes when the rule is off (most rules: unchanged)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "enabled": self.enabled,
            "gain": self.gain,
            "settings": _plain(asdict(self.settings)),
            "fitted": _plain(asdict(self.fitted)),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Rule:
        if raw.get("version") != cls.version:
            raise ValueError(f"rule {cls.name!r} version {raw.get('version')!r} is not {cls.version}")
        return cls(_build(cls.Settings, raw.get("settings") or {}), _build(cls.Fitted, raw.get("fitted") or {}),
                   bool(raw.get("enabled", True)), raw.get("gain"))


def _build(kind: type, raw: dict[str, Any]) -> Any:
    known = {f.name for f in fields(kind)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    return kind(**raw)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
