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
