"""Timing and memory: throughput by article length, single-article latency, process age, peak RSS."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Throughput:
    articles: int
    seconds: float
    by_length: list[dict]  # per length bucket: mean words, articles, articles/s

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


def length_buckets(texts: list[str], n: int) -> list[list[int]]:
    """Indices of ``texts`` in ``n`` equal groups by word count, shortest first."""
    order = np.argsort([len(t.split()) for t in texts], kind="stable")
    return [list(map(int, part)) for part in np.array_split(order, n) if len(part)]


def throughput(run: Callable[[list[str]], Any], texts: list[str], buckets: int = 5) -> Throughput:
    """Runs ``run`` over every length bucket once (after one small warm-up call) and times each: the total is
    the rate over all articles, the buckets are the curve of rate against length."""
    run(texts[:2])
    rows, total = [], 0.0
    for idx in length_buckets(texts, buckets):
        part = [texts[i] for i in idx]
        start = time.perf_counter()
        run(part)
        seconds = time.perf_counter() - start
        total += seconds
        words = float(np.mean([len(t.split()) for t in part]))
        rate = round(len(part) / seconds, 2)
        rows.append({"mean_words": round(words, 1), "articles": len(part), "articles_per_second": rate})
    return Throughput(len(texts), total, rows)


def latency(run: Callable[[list[str]], Any], texts: list[str]) -> dict[str, float]:
    """p50 / p95 seconds of one-article calls, one call per text."""
    times = []
    for t in texts:
        start = time.perf_counter()
        run([t])
        times.append(time.perf_counter() - start)
    return {"p50_s": round(float(np.percentile(times, 50)), 4), "p95_s": round(float(np.percentile(times, 95)), 4),
            "calls": len(times)}


def process_age() -> float:
    """Seconds since this process started (Linux: /proc), so that interpreter start-up and imports count."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / ticks


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB. Read from /proc (VmHWM), which starts afresh at exec:
    getrusage's ru_maxrss would carry over the parent's peak into a child started with fork + exec."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
