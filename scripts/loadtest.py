"""Bounded load test of the HTTP service (``make loadtest``).

Starts ``nlp-service serve`` on a free 127.0.0.1 port with the shipped checkpoints, waits until /readyz, then
runs three phases against POST /v1/classify with the same 300-word article (written for this project):

1. one client sending requests in sequence (the baseline for batching);
2. 50 concurrent clients, a fixed number of requests each;
3. 200 concurrent clients, a fixed number of requests each;
4. fairness: one client sends 256-article requests back to back while 200 clients send one-article requests
   for ``--fair-seconds``; the one-article requests' latency, answered 200 or 503, is what counts;
5. ``--stalled`` connections that send half a request (headers and part of a 2 MB body) and then nothing: how
   long until the server has closed them all, and its memory meanwhile.

Clients do not retry: a 503 is counted as such (and must carry Retry-After). During every phase a probe in its
own process asks /healthz every 50 ms. Reports throughput, p50/p95/p99 latency, responses by status, /healthz
latency and the server's peak RSS (VmHWM), printed and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent

# 300 words, fictional, written for this test: no publisher's text.
ARTICLE = (
    "Farmers in the highlands of western Kenya began harvesting an early crop of maize on Monday after a season "
    "of unusually steady rain, and county officials said the yield could be the largest in a decade. In Kitale, "
    "the regional market town, traders reported that the price of a ninety-kilogram bag had already fallen by a "
    "fifth since the start of the month, easing pressure on households that spent much of last year buying "
    "imported grain at high prices. The agriculture office in Trans Nzoia county estimated that more than forty "
    "thousand smallholders had planted hybrid seed distributed through a government voucher scheme in March. "
    "Officials credited the scheme, together with fertiliser subsidies and better weather forecasts sent to "
    "farmers by text message, for the improvement. Not everyone was pleased. Several cooperative leaders warned "
    "that storage remained the weakest link, noting that the national cereals board had room for only part of "
    "the expected surplus and that private warehouses were charging more than many growers could afford. "
    "Without dry storage, they said, a good harvest could turn into heavy losses within weeks as grain spoiled "
    "or was sold cheaply to middlemen. A spokesperson for the ministry of agriculture said on Tuesday that the "
    "government would lease additional silos in Eldoret and Nakuru and would buy maize directly from "
    "cooperatives at a guaranteed minimum price until the end of September. Economists in Nairobi welcomed the "
    "plan but cautioned that guaranteed prices had strained public finances in the past. They urged the "
    "government to publish how much it intended to spend and to invest in roads linking remote farms to "
    "markets. Meanwhile, schools in the region reported higher attendance, which teachers linked to families "
    "having more food and income. Aid agencies said they would scale back emergency food distributions in "
    "the area but keep monitoring nutrition among young children through the dry months ahead."
)
assert 280 <= len(ARTICLE.split()) <= 320


@dataclass
class Phase:
    name: str
    clients: int
    requests: int
    seconds: float = 0.0
    throughput: float = 0.0  # successful answers per second
    latency_ms: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    error_rate: float = 0.0
    retry_after_missing: int = 0
    healthz_ms: dict[str, float] = field(default_factory=dict)
    # From the server's access log: time inside the server (queue + model + response), without the load
    # generator's own delays (it runs on the same cores).
    server_ms: dict[str, float] = field(default_factory=dict)
    started_at: float = 0.0
    ended_at: float = 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values, default=float("nan")), 1),
    }


def probe(url: str, stop: Any, results: Any) -> None:
    """GET /healthz every 50 ms on one keep-alive connection until ``stop``; put the latencies (ms) on
    ``results``."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                client.get("/healthz")
                latencies.append((time.perf_counter() - started) * 1000)
            except httpx.HTTPError:
                latencies.append(float("inf"))
            time.sleep(0.05)
    results.put(latencies)


async def post_classify(http: httpx.AsyncClient, body: bytes) -> tuple[str, bool]:
    """POST /v1/classify: the status (or the transport error's name), and whether a 503 came without Retry-After."""
    try:
        response = await http.post("/v1/classify", content=body, headers={"content-type": "application/json"})
    except httpx.HTTPError as exc:
        return type(exc).__name__, False
    return str(response.status_code), response.status_code == 503 and "retry-after" not in response.headers


async def run_phase(url: str, name: str, clients: int, per_client: int) -> Phase:
    phase = Phase(name, clients, clients * per_client)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    missing_retry_after = 0
    body = json.dumps({"text": ARTICLE}).encode()
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def client() -> None:
            nonlocal missing_retry_after
            for _ in range(per_client):
                started = time.perf_counter()
                key, no_retry_after = await post_classify(http, body)
                missing_retry_after += no_retry_after
                statuses[key] = statuses.get(key, 0) + 1
                if key == "200":
                    latencies.append((time.perf_counter() - started) * 1000)

        # The probe runs in its own process: inside this one it would wait for the 200 client coroutines
        # and measure the load generator instead of the server.
        ctx = multiprocessing.get_context("spawn")
        stop, results = ctx.Event(), ctx.Queue()
        prober = ctx.Process(target=probe, args=(url, stop, results), daemon=True)
        prober.start()
        phase.started_at = time.time()
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        phase.seconds = round(time.perf_counter() - started, 2)
        phase.ended_at = time.time()
        stop.set()
        health = results.get(timeout=60)
        prober.join(timeout=30)
    ok = statuses.get("200", 0)
    phase.throughput = round(ok / phase.seconds, 2)
    phase.latency_ms = summary(latencies)
    phase.statuses = dict(sorted(statuses.items()))
    phase.error_rate = round(1 - ok / phase.requests, 4)
    phase.retry_after_missing = missing_retry_after
    phase.healthz_ms = summary(health) | {"probes": len(health)}
    return phase


async def run_fair_phase(url: str, clients: int, seconds: float, large: int = 256) -> dict[str, Any]:
    """One client posts ``large``-article requests back to back; ``clients`` clients post one-article requests
    (no pause) for ``seconds``. Every one-article request's latency counts, 200 or 503 alike: a 503 with
    Retry-After is a prompt answer, what must not happen is a wait behind the large requests."""
    small_ms: list[float] = []
    small_status: dict[str, int] = {}
    large_status: dict[str, int] = {}
    large_ms: list[float] = []
    missing_retry_after = 0
    one = json.dumps({"text": ARTICLE}).encode()
    many = json.dumps({"articles": [{"id": str(i), "text": ARTICLE} for i in range(large)]}).encode()
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    stop_at = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def large_client() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                key, _ = await post_classify(http, many)
                large_status[key] = large_status.get(key, 0) + 1
                large_ms.append((time.perf_counter() - started) * 1000)
                if key != "200":
                    await asyncio.sleep(1)  # as Retry-After asks

        async def small_client() -> None:
            nonlocal missing_retry_after
            await asyncio.sleep(0.5)  # the large client's first request is in the queue first
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                key, no_retry_after = await post_classify(http, one)
                missing_retry_after += no_retry_after
                small_status[key] = small_status.get(key, 0) + 1
                small_ms.append((time.perf_counter() - started) * 1000)
                if key == "503":
                    await asyncio.sleep(1)  # Retry-After: 1

        await asyncio.gather(large_client(), *(small_client() for _ in range(clients)))
    return {
        "name": f"{clients} one-article clients beside a {large}-article client",
        "seconds": seconds,
        "one_article_ms": summary(small_ms) | {"requests": len(small_ms)},
        "one_article_statuses": dict(sorted(small_status.items())),
        "one_article_503_without_retry_after": missing_retry_after,
        "large_ms": summary(large_ms) | {"requests": len(large_ms)},
        "large_statuses": dict(sorted(large_status.items())),
    }


async def run_stalled_phase(port: int, count: int, server_pid: int, give_up_s: float = 60.0) -> dict[str, Any]:
    """``count`` connections each send the headers of a 2 MB upload and 5 kB of it, then stall. Reports how
    many the server refused at once (its connection cap), when the last one was closed, and the RSS."""
    partial = (b"POST /v1/classify HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
               b"content-length: 2000000\r\n\r\n" + b'{"text": "' + b"x" * 5000)
    started = time.perf_counter()
    closed_after: list[float] = []
    answers: dict[str, int] = {}
    failed_to_open = 0

    async def stalled() -> None:
        nonlocal failed_to_open
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(partial)
            await writer.drain()
        except OSError:
            failed_to_open += 1
            return
        received = b""
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), timeout=give_up_s):
                received += chunk  # a 408 or 503 answer, then the close
        except (TimeoutError, OSError):
            pass
        status = received.split(b"\r\n", 1)[0].decode("latin-1") or "closed without an answer"
        answers[status] = answers.get(status, 0) + 1
        closed_after.append(time.perf_counter() - started)
        writer.close()

    tasks = [asyncio.create_task(stalled()) for _ in range(count)]
    await asyncio.sleep(2)
    rss_during = memory_mb(server_pid, "VmRSS")
    await asyncio.gather(*tasks)
    return {
        "name": f"{count} stalled connections",
        "connections": count,
        "could_not_connect": failed_to_open,
        "closed_within_s": round(max(closed_after, default=float("nan")), 1),
        "still_open_after_give_up": sum(1 for t in closed_after if t >= give_up_s),
        "answers": dict(sorted(answers.items())),
        "rss_mb_during": rss_during,
    }



def server_side(log_path: Path, phases: list[Phase]) -> None:
    """Per phase: latency percentiles of the 200 answers to /v1/classify, as the server's access log has them."""
    entries = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    for phase in phases:
        ms = [
            e["ms"]
            for e in entries
            if e.get("path") == "/v1/classify" and e.get("status") == 200
            and phase.started_at <= e["ts"] <= phase.ended_at + 0.05
        ]
        phase.server_ms = summary(ms) | {"answers": len(ms)}


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A process's memory from /proc: VmHWM (peak RSS) or VmRSS (now), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "loadtest.json")
    parser.add_argument("--sequential", type=int, default=40, help="requests of the one sequential client")
    parser.add_argument("--per-client", type=int, default=6, help="requests per client at 50 clients")
    parser.add_argument("--per-client-200", type=int, default=3, help="requests per client at 200 clients")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--model-threads", type=int, help="passed to serve (default: serve's own)")
    parser.add_argument("--fair-seconds", type=float, default=40.0,
                        help="length of the phase with a 256-article client beside 200 one-article clients")
    parser.add_argument("--stalled", type=int, default=2000, help="half-sent requests in the stalled phase")
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "nlp_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if args.checkpoint:
        command += ["--checkpoint", str(args.checkpoint)]
    if args.model_threads:
        command += ["--model-threads", str(args.model_threads)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_path = args.out.with_suffix(".server.log")
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.5)
        asyncio.run(run_phase(url, "warm-up", 4, 2))  # first calls pay one-off costs
        phases = [
            asyncio.run(run_phase(url, "sequential", 1, args.sequential)),
            asyncio.run(run_phase(url, "50 clients", 50, args.per_client)),
            asyncio.run(run_phase(url, "200 clients", 200, args.per_client_200)),
        ]
        fair = asyncio.run(run_fair_phase(url, 200, args.fair_seconds))
        stalled = asyncio.run(run_stalled_phase(port, args.stalled, server.pid))
        rss = memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    server_side(log_path, phases)
    sequential, fifty = phases[0], phases[1]
    report = {
        "article_words": len(ARTICLE.split()),
        "cpus": os.cpu_count(),
        "load_average_after": os.getloadavg(),  # other work on the machine skews every figure
        "phases": [asdict(p) for p in phases],
        "fairness": fair,
        "stalled": stalled,
        "peak_rss_mb": rss,
        "batching_speedup_50_vs_sequential": round(fifty.throughput / sequential.throughput, 2),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for p in phases:
        print(
            f"{p.name:>12}: {p.requests} requests in {p.seconds} s, {p.throughput} ok/s, latency ms {p.latency_ms}, "
            f"statuses {p.statuses}, 503 without Retry-After {p.retry_after_missing}, /healthz ms {p.healthz_ms}, "
            f"in-server ms {p.server_ms}"
        )
    print(f"{fair['name']}: one-article ms {fair['one_article_ms']}, statuses {fair['one_article_statuses']}; "
          f"large ms {fair['large_ms']}, statuses {fair['large_statuses']}")
    print(f"{stalled['name']}: all closed within {stalled['closed_within_s']} s "
          f"({stalled['still_open_after_give_up']} still open after 60 s), answers {stalled['answers']}, "
          f"RSS meanwhile {stalled['rss_mb_during']} MB")
    print(f"peak RSS {rss} MB; batching speed-up at 50 clients: {report['batching_speedup_50_vs_sequential']}x")
    print(f"load average after the run: {report['load_average_after']} on {os.cpu_count()} CPUs")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
