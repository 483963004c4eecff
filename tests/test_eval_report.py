"""reports/eval.html: the evaluation as a page, with its plots embedded."""

from __future__ import annotations

from training.evaluation.html_report import markdown_to_html, write_html


def small_report() -> dict:
    per_label = {"politics": {"precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 10},
                 "sport": {"precision": 1.0, "recall": 0.9, "f1": 0.95, "support": 5}}
    reliability = [{"bin": "0.0–0.1", "pairs": 10, "mean_score": 0.05, "positive_rate": 0.1},
                   {"bin": "0.9–1.0", "pairs": 5, "mean_score": 0.95, "positive_rate": 0.8}]
    model = {"gold_themes": {"micro_f1": 0.8, "macro_f1": 0.85, "per_label": per_label},
             "calibration": {"gold_themes": {"pairs": 15, "ece": 0.05, "brier": 0.1, "reliability": reliability}}}
    return {
        "split": "tiny <test>",
        "models": {"fine-tuned": model, "tfidf+logreg": model},
        "agreement": {"theme_micro_f1": 0.95, "per_theme": {"politics": {"f1": 0.9, "kappa": 0.8}}},
        "per_theme": [],
        "confusion": {"set": "gold test", "model": "fine-tuned", "labels": ["Eastern Africa", "Northern Europe"],
                      "matrix": [[3, 1], [0, 4]]},
        "rules": {"set": "gold test", "rows": [{"rule": "platt", "enabled": True, "metric": "theme micro-F1",
                                                "with": 0.8, "without": 0.7, "gain": 0.1, "validation_gain": 0.05,
                                                "why": "scores"}]},
    }


def test_eval_page_holds_the_tables_and_three_plots(tmp_path):
    page = write_html(small_report(), tmp_path / "eval.html").read_text(encoding="utf-8")
    assert page.count("<img") == 3 and page.count("data:image/png;base64,") == 3
    assert "<table>" in page and "annotator agreement" in page and "platt" in page
    assert "tiny &lt;test&gt;" in page  # text is escaped


def test_markdown_tables_become_html_tables():
    got = markdown_to_html("# Title\n\n| a | b |\n|---|---|\n| `x` | 2 |\ntext")
    assert got == ("<h1>Title</h1>\n<table><tr><th>a</th><th>b</th></tr><tr><td><code>x</code></td><td>2</td></tr>"
                   "</table>\n<p>text</p>")


def test_markdown_reports_each_gold_set_beside_its_own_agreement():
    from training.evaluation.report import markdown

    report = small_report()
    for model in report["models"].values():
        model["gold4_themes"] = {"micro_f1": 0.81, "macro_f1": 0.74}
        model["gold_r5_themes"] = {"micro_f1": 0.77, "macro_f1": 0.66}
    report["agreement_by_set"] = {"gold4": {"theme_micro_f1": 0.953}, "gold_r5": {"theme_micro_f1": 0.935}}
    md = markdown(report)
    assert "| gold test themes (17) micro-F1 | 0.800 | 0.800 | 0.950 |" in md
    assert "| gold test of rounds 1-4 themes (17) micro-F1 | 0.810 | 0.810 | 0.953 |" in md
    assert "| gold round 5 (random test draw, read in full) themes (17) micro-F1 | 0.770 | 0.770 | 0.935 |" in md
    assert "| gold round 5 (random test draw, read in full) themes (17) macro-F1 | 0.660 | 0.660 | – |" in md
