"""Scale-out: persisted-ack throughput and ack p99 of 1, 2 and 3 ``llm-sre serve`` workers on one
real Redis (AOF on), requests spread round-robin by the client as a plain load balancer would;
ratios against 1 worker measured in the same run.

    .venv/bin/python bench/replicas.py [--seconds 8] [--rate 40] [--concurrency 24] [--rounds 2]

Same client and bodies as bench/intake.py (each POST a new alert group, so every ack is a real
write): a closed loop of ``--concurrency`` clients → requests/s, then an open loop at ``--rate``
POSTs/s → ack p50/p99. Each worker also delivers to its outbox meanwhile. All processes — Redis,
the workers and the client — share this machine's cores, so on a small machine the ceiling is the
CPU, not the store; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import load, start_server

from llm_sre.processes import free_port, redis_server, wait_until


def measure(workers: int, redis_url: str, args: argparse.Namespace) -> dict[str, float]:
    redis.Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LLM_SRE_STORE": "redis", "REDIS_URL": redis_url}
        started = [start_server("llm-sre", Path(tmp) / str(n), env) for n in range(workers)]
        try:
            return load([url for _, url in started], args)
        finally:
            for proc, _ in started:
                proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; medians are reported")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} seconds={args.seconds} "
          f"rate={args.rate}/s concurrency={args.concurrency}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = redis_server(Path(tmp) / "data", port, Path(tmp)).start()
        try:
            wait_until(redis.Redis(port=port).ping, 15, what="redis-server")
            url = f"redis://127.0.0.1:{port}/0"
            runs: dict[int, list[dict[str, float]]] = {n: [] for n in args.workers}
            for _ in range(args.rounds):  # alternating, so a neighbour's load hits every size alike
                for n, results in runs.items():
                    results.append(measure(n, url, args))
        finally:
            proc.stop()
    med = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in runs.items()}
    base = med[args.workers[0]]
    for n, r in med.items():
        print(
            f"{n} worker(s) {r['rps']:7.0f} req/s ({r['rps'] / base['rps']:.2f}×)   at {args.rate:.0f}/s: "
            f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms ({r['p99_ms'] / base['p99_ms']:.2f}×)"
        )
    print(f"load after: {os.getloadavg()[0]:.1f} (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
