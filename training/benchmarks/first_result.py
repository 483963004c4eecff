"""One path in a fresh process: seconds from process start to its first result (caches warm, so this is what a
restarted service pays), then its peak RSS after a batch of 32.

    python -m training.benchmarks.first_result NAME [--checkpoint checkpoints] [--threads 2]

Prints one JSON object. ``make bench`` runs it once per path after the main run has filled the caches."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.benchmarks.measure import peak_rss_mb, process_age

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles.jsonl"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    rows = [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]
    texts = [r.get("text") or f"{r.get('title', '')}\n{r.get('body', '')}" for r in rows]

    import torch

    torch.set_num_threads(a.threads)
    from training.benchmarks.paths import BenchSettings, build

    path = build(a.name, BenchSettings(a.checkpoint, a.threads))
    path.run(texts[:1])
    first = process_age()
    if a.name.startswith("abstractive"):  # the decoder's batch is its own setting; one more article shows its memory
        path.run(texts[1:2])
    else:
        path.run((texts * 3)[:32])
    if path.kind == "all":
        path.component(texts[:1])
    out = {"name": a.name, "first_result_s": round(first, 2), "peak_rss_mb": round(peak_rss_mb(), 1)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
