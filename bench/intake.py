"""Webhook intake: persisted-ack throughput and latency of ``llm-sre serve`` against a bare FastAPI
handler that only parses the same JSON, both measured in the same run on this machine.

    .venv/bin/python bench/intake.py [--seconds 10] [--rate 200] [--concurrency 16]

Two measurements per server, same client, same bodies (each a distinct alert group, so every POST
is a real insert, never the cheaper duplicate path):

* closed loop: ``--concurrency`` clients POST back to back for ``--seconds`` → requests/s;
* open loop: a fixed ``--rate`` of POSTs/s for ``--seconds`` → ack latency p50/p99.

The service runs as shipped (SQLite WAL, worker delivering to the outbox at the same time), so the
numbers include the worker competing for the CPU. Targets from issue 6: throughput ≥ 0.7× the bare
handler, p99 < 50 ms at 200 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from llm_sre.processes import ManagedProcess, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"


def bare_app() -> FastAPI:
    """The baseline: FastAPI, same route, parse the JSON and answer; nothing stored."""
    app = FastAPI()

    @app.post("/alertmanager")
    async def receive(request: Request) -> dict[str, str]:
        json.loads(await request.body())
        return {"status": "accepted"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def body(n: int) -> bytes:
    labels = {"alertname": "BenchAlert", "severity": "warning", "service": f"svc-{n}"}
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchAlert", service="svc-{n}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "llm-sre",
            "groupLabels": labels,
            "commonLabels": labels,
            "commonAnnotations": {"summary": "bench"},
            "externalURL": "http://127.0.0.1:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {**labels, "instance": f"i{i}"},
                    "annotations": {"summary": "benchmark alert", "description": "x" * 200},
                    "startsAt": "2026-11-26T10:00:00Z",
                    "endsAt": "2026-11-26T11:00:00Z",
                    "generatorURL": "http://127.0.0.1:9090/graph",
                    "fingerprint": f"{n:08x}{i:04x}",
                }
                for i in range(3)
            ],
        }
    ).encode()


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def spread(urls: str | Sequence[str], n: int) -> str:
    """Round-robin over several servers (bench/replicas.py), as a plain load balancer would."""
    return urls if isinstance(urls, str) else urls[n % len(urls)]


async def closed_loop(url: str | Sequence[str], seconds: float, concurrency: int, ids: Counter) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    done = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:

        async def one() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                n = ids.next()
                resp = await client.post(f"{spread(url, n)}/alertmanager", content=body(n))
                resp.raise_for_status()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return done / (time.perf_counter() - start)


async def open_loop(url: str | Sequence[str], seconds: float, rate: float, ids: Counter) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    async with httpx.AsyncClient(
        headers=headers, timeout=30, limits=httpx.Limits(max_connections=200)
    ) as client:

        async def one(n: int) -> None:
            start = time.perf_counter()
            resp = await client.post(f"{spread(url, n)}/alertmanager", content=body(n))
            resp.raise_for_status()
            latencies.append(time.perf_counter() - start)

        tasks = []
        start = time.perf_counter()
        for i in range(int(seconds * rate)):
            # Scheduled sends: a slow answer does not slow the arrival rate (no coordinated omission).
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(ids.next())))
        await asyncio.gather(*tasks)
    return latencies


def start_server(
    kind: str, workdir: Path, extra_env: dict[str, str] | None = None
) -> tuple[ManagedProcess, str]:
    port = free_port()
    if kind == "bare":
        argv = [sys.executable, __file__, "--serve-bare", str(port)]
        env = {}
    else:
        argv = [
            str(Path(sys.executable).with_name("llm-sre")),
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        env = {
            "LLM_SRE_DATA_DIR": str(workdir / "data"),
            "LLM_SRE_WEBHOOK_TOKEN": TOKEN,
            "LLM_SRE_LLM_CONCURRENCY": "0",
            **(extra_env or {}),
        }
    proc = ManagedProcess(
        kind, argv, workdir / f"{kind}-{port}.log", env=env, ready_url=f"http://127.0.0.1:{port}/healthz"
    ).start()
    return proc, f"http://127.0.0.1:{port}"


def load(url: str | Sequence[str], args: argparse.Namespace) -> dict[str, float]:
    """The closed loop (requests/s), then the open loop (ack p50/p99) against ``url``(s)."""
    ids = Counter()
    rps = asyncio.run(closed_loop(url, args.seconds, args.concurrency, ids))
    q = statistics.quantiles(asyncio.run(open_loop(url, args.seconds, args.rate, ids)), n=100)
    return {"rps": rps, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def measure(kind: str, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(kind, Path(tmp))
        try:
            return load(url, args)
        finally:
            proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        import uvicorn

        uvicorn.run(bare_app(), host="127.0.0.1", port=args.serve_bare, log_level="warning")
        return
    print(f"cpus={os.cpu_count()} seconds={args.seconds} rate={args.rate}/s concurrency={args.concurrency}")
    # Alternating rounds so a neighbour's load on a shared machine hits both sides alike.
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "llm-sre": []}
    for _ in range(args.rounds):
        for kind, results in runs.items():
            results.append(measure(kind, args))
    med = {kind: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for kind, rs in runs.items()}
    for kind, r in med.items():
        print(
            f"{kind:8s} {r['rps']:8.0f} req/s   at {args.rate:.0f}/s: p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms   (median of {args.rounds})"
        )
    ratios = [o["rps"] / b["rps"] for b, o in zip(runs["bare"], runs["llm-sre"], strict=True)]
    print(
        f"throughput ratio llm-sre/bare = {statistics.median(ratios):.2f} "
        f"(per round {', '.join(f'{x:.2f}' for x in ratios)}; target ≥ 0.70); "
        f"llm-sre p99 at {args.rate:.0f}/s = {med['llm-sre']['p99_ms']:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
