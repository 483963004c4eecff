"""reports/eval.html: the evaluation as a page a person reads. The markdown report's tables, plus three plots drawn
with matplotlib and embedded as PNG: per-theme F1 on the gold test split (each model beside the annotators'
agreement), a reliability diagram of theme scores, and the confusion matrix of primary sub-regions."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.evaluation.report import markdown  # noqa: E402

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee;margin:1em 0}code{background:#f6f6f6}"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def theme_f1_plot(report: dict) -> str | None:
    models = [m for m, r in report["models"].items() if (r.get("gold_themes") or {}).get("per_label")]
    if not models:
        return None
    themes = list(report["models"][models[0]]["gold_themes"]["per_label"])
    agreement = (report.get("agreement") or {}).get("per_theme", {})
    series = {m: [report["models"][m]["gold_themes"]["per_label"][t]["f1"] for t in themes] for m in models}
    if agreement:
        series["annotator agreement"] = [agreement.get(t, {}).get("f1") or 0.0 for t in themes]
    fig, ax = plt.subplots(figsize=(11, 6))
    width = 0.8 / len(series)
    y = np.arange(len(themes))
    for k, (name, values) in enumerate(series.items()):
        ax.barh(y + k * width, values, height=width, label=name)
    ax.set_yticks(y + width * (len(series) - 1) / 2, themes)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="#999", lw=0.8, ls="--")
    ax.set_xlabel("F1 on the gold test split")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Per-theme F1: models vs the agreement of two annotators")
    return _png(fig)


def reliability_plot(report: dict, section: str = "gold_themes") -> str | None:
    curves = {m: (r.get("calibration") or {}).get(section) for m, r in report["models"].items()}
    curves = {m: c for m, c in curves.items() if c and c.get("reliability")}
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls="--", label="perfect")
    for name, c in curves.items():
        bins = [b for b in c["reliability"] if b["pairs"]]
        ax.plot([b["mean_score"] for b in bins], [b["positive_rate"] for b in bins], marker="o",
                label=f"{name} (ECE {c['ece']:.3f})")
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("share of (article, theme) pairs that are gold")
    ax.set_title("Reliability of theme scores, gold test split")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def confusion_plot(confusion: dict | None) -> str | None:
    if not confusion or not confusion.get("labels"):
        return None
    labels, m = confusion["labels"], np.array(confusion["matrix"], dtype=float)
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted primary sub-region")
    ax.set_ylabel("gold primary sub-region")
    ax.set_title(f"Primary sub-region confusion ({confusion.get('set', '')}, {confusion.get('model', '')})")
    return _png(fig)


def markdown_to_html(text: str) -> str:
    """The report's own markdown (headings, pipe tables, paragraphs, `code`) as HTML."""
    out, table = [], []

    def cells(line: str) -> list[str]:
        return [_inline(c.strip()) for c in line.strip().strip("|").split("|")]

    def flush() -> None:
        if table:
            head, *rows = [r for r in table if not set(r.replace("|", "").strip()) <= {"-", ":"}]
            out.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cells(head)) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in cells(r)) + "</tr>" for r in rows)
                       + "</table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    return "\n".join(out)


def _inline(text: str) -> str:
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if k % 2 else p for k, p in enumerate(parts))


def write_html(report: dict, path: Path) -> Path:
    figures = [
        ("Per-theme F1 on the gold test split", theme_f1_plot(report)),
        ("Reliability diagram", reliability_plot(report)),
        ("Primary sub-regions", confusion_plot(report.get("confusion"))),
    ]
    body = [f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='{src}'>"
            for title, src in figures if src]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>nlp-service evaluation</title>"
            f"<style>{_STYLE}</style></head><body>{markdown_to_html(markdown(report))}{''.join(body)}</body></html>")
    path.write_text(page, encoding="utf-8")
    return path
