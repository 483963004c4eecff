"""Throughput of the local and the Ray engine on the same synthetic articles (docs/scale-out.md).

    PYTHONPATH=$PWD .venv/bin/python scripts/bench_engines.py --n 1000 --rounds 2 \
        --out reports/engine_bench.json --plot docs/scale-out-throughput.png

Each round runs, one after the other on the same input: the local engine (fresh models: load + run, and the run
alone; then the run again with one torch thread), then the Ray engine at 1 actor × 1 CPU, 1 actor × 2 CPUs and
2 actors × 1 CPU on a local Ray with 2 CPUs, started after the local runs and stopped at the end of the round
(its start-up is reported apart and not in any rate).
A Ray rate counts the job from submit to last record: actor start and model loading included, Ray start-up
excluded. The load average before and after is recorded: on a shared machine other jobs slow both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_articles import synthetic_articles, write_jsonl  # noqa: E402

from nlp_service.analyzer import DEFAULT_CHECKPOINTS, Analyzer  # noqa: E402
from nlp_service.batch import BatchConfig, run_batch  # noqa: E402

RAY_SETUPS = ((1, 1.0), (1, 2.0), (2, 1.0))  # (actors, CPUs per actor)


def bench(n: int, rounds: int, workdir: Path) -> dict:
    import ray
    import torch

    from nlp_service.batch.engines.ray import RayConfig, loopback_only, run_ray

    src = write_jsonl(synthetic_articles(n), workdir / "in.jsonl")
    config = BatchConfig(progress=False)
    result: dict = {"articles": n, "cpus": os.cpu_count(), "load_before": os.getloadavg(), "runs": []}
    loopback_only()
    result["ray_start_s"] = []
    reference = None
    for round_no in range(rounds):
        # The local engine runs with no Ray started: Ray's own processes (GCS, raylet, idle workers) take CPU
        # that a 2-thread torch run on 2 cores cannot spare.
        out = workdir / f"local-{round_no}.jsonl"
        t0 = time.perf_counter()
        analyzer = Analyzer.load(DEFAULT_CHECKPOINTS)
        analyzer.warm_up()
        load_s = time.perf_counter() - t0
        stats = run_batch(analyzer, str(src), str(out), config)
        reference = reference or out.read_bytes()
        result["runs"].append(
            {
                "engine": "local",
                "round": round_no,
                "load_s": load_s,
                "run_s": stats.seconds,
                "load_avg": os.getloadavg(),
            }
        )
        # The same engine with one torch thread: on a busy machine two OpenMP threads wait for each other, so
        # this tells thread contention apart from engine overhead. Not what `nlp-service batch` does.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        out = workdir / f"local1t-{round_no}.jsonl"
        stats = run_batch(analyzer, str(src), str(out), config)
        torch.set_num_threads(threads)
        result["runs"].append(
            {
                "engine": "local-1-thread",
                "round": round_no,
                "run_s": stats.seconds,
                "same_records": out.read_bytes() == reference,
                "load_avg": os.getloadavg(),
            }
        )
        print(json.dumps(result["runs"][-2:]), flush=True)
        del analyzer
        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        result["ray_start_s"].append(round(time.perf_counter() - t0, 2))
        for actors, cpus in RAY_SETUPS:
            out = workdir / f"ray-{round_no}-{actors}x{cpus}.jsonl"
            stats = run_ray(str(src), str(out), config, RayConfig(num_actors=actors, cpus_per_actor=cpus))
            result["runs"].append(
                {
                    "engine": "ray",
                    "round": round_no,
                    "actors": actors,
                    "cpus_per_actor": cpus,
                    "job_s": stats.seconds,
                    "same_records": out.read_bytes() == reference,
                    "load_avg": os.getloadavg(),
                }
            )
            print(json.dumps(result["runs"][-1]), flush=True)
        ray.shutdown()
    result["load_after"] = os.getloadavg()
    result["summary"] = summarise(result)
    return result


def summarise(result: dict) -> dict:
    n = result["articles"]
    local = [r for r in result["runs"] if r["engine"] == "local"]
    out = {
        "local_with_load": statistics.median(n / (r["load_s"] + r["run_s"]) for r in local),
        "local_run_only": statistics.median(n / r["run_s"] for r in local),
        "local_load_s": statistics.median(r["load_s"] for r in local),
        "local_1_thread_run_only": statistics.median(
            n / r["run_s"] for r in result["runs"] if r["engine"] == "local-1-thread"
        ),
    }
    for actors, cpus in RAY_SETUPS:
        runs = [r for r in result["runs"] if r.get("actors") == actors and r.get("cpus_per_actor") == cpus]
        out[f"ray_{actors}x{cpus:g}"] = statistics.median(n / r["job_s"] for r in runs)
    out["ray_2x1_share_of_local_with_load"] = out["ray_2x1"] / out["local_with_load"]
    out["ray_2x1_share_of_local_run_only"] = out["ray_2x1"] / out["local_run_only"]
    return {k: round(v, 3) for k, v in out.items()}


def plot(results: list[dict], path: Path) -> None:
    """Measured articles/s against actors, one colour per bench run (its load average in the legend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    for i, result in enumerate(results):
        s, colour = result["summary"], f"C{i}"
        loads = [r["load_avg"][0] for r in result["runs"]]
        label = f"run {i + 1}: load {min(loads):.1f}–{max(loads):.1f}"
        ax.plot([1, 2], [s["ray_1x1"], s["ray_2x1"]], "o-", color=colour, label=label)
        ax.plot([1], [s["ray_1x2"]], "s", color=colour, mfc="none")
        ax.axhline(s["local_with_load"], color=colour, ls="--", lw=1)
        if "local_1_thread_run_only" in s:  # measured from the second bench run on
            ax.axhline(s["local_1_thread_run_only"], color=colour, ls=":", lw=1)
    styles = [
        plt.Line2D([], [], color="k", marker="o", label="Ray, 1 CPU per actor (incl. model load)"),
        plt.Line2D([], [], color="k", marker="s", mfc="none", ls="none", label="Ray, 1 actor × 2 CPUs"),
        plt.Line2D([], [], color="k", ls="--", lw=1, label="local, 2 threads, incl. model load"),
        plt.Line2D([], [], color="k", ls=":", lw=1, label="local, 1 thread, models loaded"),
    ]
    first = ax.legend(handles=styles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.add_artist(first)
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(1.01, 0.0))
    ax.set_xticks([1, 2])
    ax.set_xlim(0.7, 2.3)
    ax.set_xlabel("actors (local Ray with 2 CPUs, on this 2-core machine)")
    ax.set_ylabel("articles / s")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{results[0]['articles']} articles, classify + summarise; Ray start-up excluded", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight", bbox_extra_artists=[first])  # the legends sit outside the axes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("reports/engine_bench.json"))
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="earlier result files to plot beside")
    parser.add_argument("--plot-only", action="store_true", help="no new run: plot --also")
    args = parser.parse_args()
    results = [json.loads(p.read_text()) for p in args.also]
    if not args.plot_only:
        with tempfile.TemporaryDirectory() as tmp:
            result = bench(args.n, args.rounds, Path(tmp))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
        print(json.dumps(result["summary"], indent=1))
        results.append(result)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
