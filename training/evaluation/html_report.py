"""reports/eval.html: the evaluation as a page a person reads. The markdown report's tables, plus three plots drawn
with matplotlib and embedded as PNG: per-theme F1 on the gold test split and the reliability diagram of theme scores
(the figures of docs/evaluation.md, from training.evaluation.plots), and the confusion matrix of primary
sub-regions."""

from __future__ import annotations

import base64
import html
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.evaluation import plots  # noqa: E402
from training.evaluation.report import markdown  # noqa: E402

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee;margin:1em 0}code{background:#f6f6f6}"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _embedded(draw: Callable[[dict, Path], Path | None], report: dict) -> str | None:
    """One of docs/evaluation.md's figures (training.evaluation.plots), as an embedded PNG."""
    with tempfile.TemporaryDirectory() as tmp:
        path = draw(report, Path(tmp) / "figure.png")
        return None if path is None else "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


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
        ("Per-theme F1 on the gold test split", _embedded(plots.theme_f1_figure, report)),
        ("Reliability diagram", _embedded(plots.reliability_figure, report)),
        ("Primary sub-regions", confusion_plot(report.get("confusion"))),
    ]
    body = [f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='{src}'>"
            for title, src in figures if src]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>nlp-service evaluation</title>"
            f"<style>{_STYLE}</style></head><body>{markdown_to_html(markdown(report))}{''.join(body)}</body></html>")
    path.write_text(page, encoding="utf-8")
    return path
