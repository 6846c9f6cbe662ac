"""Load benchmark of ``related-posts serve``: prints a table and writes JSON.

    python bench/serve_load.py                 # 100k articles, 50 clients, 15 s a phase
    python bench/serve_load.py --articles 5000 --seconds 3   # a quick check

A synthetic store (clustered vectors, stored lists of 5 links for every article) is served
on loopback by a real ``related-posts serve`` process; 50 concurrent clients (one asyncio
httpx client each, in this process) ask for random articles' lists for a bounded time:
- ``GET /related/{id}`` while the server is otherwise idle,
- the same while a full ``refresh`` of the store runs in another process (stopped by
  SIGTERM after the phase: a refresh is resumable, so the store stays consistent),
- and, as the baseline measured in the same run, ``GET /widget.js`` (a static script: the
  server's and clients' own cost per request, with nothing read from the store).
Reported: requests/s, p50 / p99 latency, errors (any non-200 answer or a list shorter
than 5). The clients and the server share the machine's cores, which the figures include.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from synthetic import build_store  # noqa: E402

CLI = str(Path(sys.executable).parent / "related-posts")
K = 5


def make_store(path: Path, n: int) -> None:
    """``n`` synthetic articles with vectors and a stored list of ``K`` links each."""
    store = build_store(path, n)
    rng = random.Random(0)
    stamp = "2026-01-01T00:00:00+00:00"
    with store.db.atomic():
        for start in range(0, n, 5000):
            links, states = [], []
            for i in range(start, min(n, start + 5000)):
                others = [j for j in rng.sample(range(n), K + 1) if j != i][:K]
                for rank, j in enumerate(others, start=1):
                    links.append((f"p{i:07d}", rank, f"p{j:07d}", 1.0 - rank / 10, "synthetic", stamp))
                states.append((f"p{i:07d}", "x", "synthetic", K, K, 0.5, 0, stamp))
            store.db.conn.executemany("insert or ignore into related (article_id, rank, related_id, score, "
                                      "model_id, computed_at) values (?, ?, ?, ?, ?, ?)", links)
            store.db.conn.executemany("insert into list_state (article_id, content_hash, model_id, k, size, "
                                      "min_score, stale, computed_at) values (?, ?, ?, ?, ?, ?, ?, ?)", states)
    store.close()


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([CLI, "serve", "--db", str(db), "--port", "0"], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", process.stderr.readline())
    if not found:
        process.kill()
        raise SystemExit("serve did not start")
    return process, f"http://127.0.0.1:{found.group(1)}"


async def load(base: str, paths: list[str], clients: int, seconds: float, check_list: bool) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int) -> None:
        nonlocal errors
        rng = random.Random(number)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
            while time.perf_counter() < stop:
                path = rng.choice(paths)
                began = time.perf_counter()
                try:
                    answer = await http.get(path)
                    ok = answer.status_code == 200 and (not check_list or len(answer.json()["related"]) == K)
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(0.50), 2),
            "p99_ms": round(pct(0.99), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", default=str(ROOT / "results" / "serve_load.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "load.db"
        began = time.perf_counter()
        make_store(db, args.articles)
        print(f"store of {args.articles:,} articles with lists built in {time.perf_counter() - began:.0f}s",
              file=sys.stderr)
        process, base = start_server(db)
        try:
            ids = [f"/related/p{i:07d}?k={K}" for i in range(args.articles)]
            asyncio.run(load(base, ids[:200], args.clients, 1.0, True))  # warm the worker threads
            results = {
                "widget.js (baseline)": asyncio.run(load(base, ["/widget.js"], args.clients, args.seconds, False)),
                "related, idle": asyncio.run(load(base, ids, args.clients, args.seconds, True)),
            }
            refresh = subprocess.Popen([CLI, "refresh", "--db", str(db), "--full", "-q", "--k", str(K),
                                        "--lexical-weight", "0", "--rerank", "0"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(2)  # past start-up: the refresh is reading and writing
            results["related, during a full refresh"] = asyncio.run(load(base, ids, args.clients,
                                                                         args.seconds, True))
            still_running = refresh.poll() is None
            refresh.send_signal(signal.SIGTERM)
            refresh.wait(timeout=120)
        finally:
            process.terminate()
            process.wait(timeout=30)
    baseline = results["widget.js (baseline)"]["requests_per_s"]
    print(f"\n{args.articles:,} articles, {args.clients} clients, {args.seconds:g} s a phase, "
          f"{os.cpu_count()} cores (clients and server share them)\n")
    print(f"{'phase':34} {'req/s':>8} {'vs static':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in results.items():
        print(f"{name:34} {row['requests_per_s']:8.0f} {row['requests_per_s'] / baseline:9.2f}x "
              f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['errors']:7d}")
    if not still_running:
        print("note: the refresh ended before the phase did", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"articles": args.articles, "clients": args.clients, "seconds": args.seconds,
                               "cpus": os.cpu_count(), "machine": platform.machine(),
                               "refresh_ran_throughout": still_running, "results": results}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
