"""What the model page shows: the shipped checkpoints' versions and training facts (read from their own
config and metrics files) and the measured quality on the held-out test sets (``quality.json`` beside this
module, written by ``scripts/model_quality.py`` from ``make eval``'s ``reports/eval.json``).

The test figures are a snapshot because ``reports/`` is not in the repository and ``make eval`` takes long; the
snapshot names the classifier version it measured, and the page says so when another one is loaded.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The documents the model page links to (served read-only at /doc/NAME from the source checkout's docs/).
DOCS = {
    "classifier": "How the classifier is trained and its decision rules",
    "countries": "Country detection: gazetteer, NER and relevance",
    "summariser": "The summariser and the consistency checker",
    "annotation": "The annotation guideline of the gold set and the annotators' agreement",
    "taxonomy": "IPTC themes and UN M49 regions",
    "usage": "Python API, batch script and HTTP service",
    "performance": "Speed and memory",
    "reliability": "Behaviour under load and bad input",
    "web": "These web pages",
}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def quality_snapshot() -> dict[str, Any] | None:
    """The measured test-set quality shipped with the package (None if it is missing or unreadable)."""
    try:
        return json.loads(resources.files("nlp_service.serve.web").joinpath("quality.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def model_info(checkpoints: Path, loaded: dict[str, str]) -> dict[str, Any]:
    """Versions, training facts and quality of the checkpoints in ``checkpoints``; ``loaded`` is the running
    service's ``Analyzer.versions`` (empty while the models load)."""
    clf_cfg = _read_json(checkpoints / "classifier" / "config.json") or {}
    clf_metrics = _read_json(checkpoints / "classifier" / "metrics.json") or {}
    sum_cfg = _read_json(checkpoints / "summarizer" / "config.json") or {}
    abs_cfg = _read_json(checkpoints / "summarizer" / sum_cfg.get("abstractive_dir", "abstractive") / "config.json")
    faith_cfg = _read_json(checkpoints / "faithfulness" / "config.json") or {}
    validation = clf_metrics.get("validation") or {}
    args = clf_metrics.get("args") or {}
    report = faith_cfg.get("calibration_report") or {}
    return {
        "loaded": loaded,
        "classifier": {
            "version": clf_cfg.get("version"),
            "base_model": clf_cfg.get("base_model"),
            "weights": clf_cfg.get("quantize"),
            "reads_tokens": clf_cfg.get("max_length"),
            "themes": len(clf_cfg.get("themes") or []),
            "regions": len(clf_cfg.get("regions") or []),
            "training": {
                "articles": clf_metrics.get("train_examples"),
                "validation_articles": clf_metrics.get("validation_examples"),
                "steps": clf_metrics.get("steps"),
                "seconds": clf_metrics.get("train_seconds"),
                "device": clf_metrics.get("device"),
                "sources": (args.get("data") or {}).get("sources"),
            },
            "validation": {
                k: validation.get(k) for k in ("theme_micro_f1", "primary_region_accuracy", "country_micro_f1")
            },
            "rules": [
                {k: rule.get(k) for k in ("rule", "enabled", "metric", "with", "without")}
                for rule in validation.get("rules") or []
            ],
        },
        "summarizer": {
            "version": sum_cfg.get("version"),
            "default_method": sum_cfg.get("default_method"),
            "max_words": sum_cfg.get("max_words"),
            "validation_rouge": (sum_cfg.get("extractive_tuning") or {}).get("chosen_rouge"),
            "validation_set": (sum_cfg.get("extractive_tuning") or {}).get("split"),
            "abstractive": None
            if abs_cfg is None
            else {"version": abs_cfg.get("version"), "base_model": abs_cfg.get("base_model")},
        },
        "checker": {
            "version": faith_cfg.get("version"),
            "base_model": (faith_cfg.get("model") or {}).get("base_model"),
            "threshold": report.get("threshold"),
            "validation": {
                k: report.get(k)
                for k in ("pairs", "balanced_accuracy", "recall_unsupported", "pass_rate_supported")
            },
        },
        "quality": quality_snapshot(),
        "docs": [{"name": name, "title": title, "url": f"/doc/{name}"} for name, title in DOCS.items()],
    }
