"""What readers, big bodies and long storms cost ``llm-sre serve`` (issue 11, items 4 and 5).

    .venv/bin/python bench/webhook_bounds.py [--seconds 8] [--rate 50] [--readers 32]

Three measurements against one real ``llm-sre serve`` (SQLite, worker delivering to the outbox),
each against a baseline taken in the same run:

* ack latency at ``--rate`` POSTs/s with ``--readers`` loops of ``GET /api/v1/incidents?limit=500``
  running, against the same open loop with no readers (ratio of p99s);
* resident memory after 400 POSTs that each carry a distinct 1 MB label, against the RSS before;
* the WAL file after 4,000 notifications written while the readers run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event as EventLike
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.intake import TOKEN, Counter, body, open_loop, start_server  # noqa: E402
from llm_sre.processes import wait_until  # noqa: E402

HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def readers(url: str, count: int, limit: int, stop: EventLike, pages: Any) -> None:
    # Generous timeout: 32 readers queue for one page helper (the point is that acks don't).
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=600) as client:

        async def loop() -> None:
            while not stop.is_set():
                (await client.get("/api/v1/incidents", params={"limit": limit})).raise_for_status()
                with pages.get_lock():
                    pages.value += 1

        await asyncio.gather(*(loop() for _ in range(count)))


def read_until_stopped(url: str, count: int, limit: int, stop: EventLike, pages: Any) -> None:
    asyncio.run(readers(url, count, limit, stop, pages))


@contextmanager
def reader_process(url: str, count: int, limit: int) -> Iterator[Any]:
    """The readers run in a process of their own, like the dashboards and scripts they stand for:
    in the ack-timing client's event loop, parsing their 2 MB pages delayed the timing itself."""
    ctx = multiprocessing.get_context("spawn")
    stop, pages = ctx.Event(), ctx.Value("i", 0)
    proc = ctx.Process(target=read_until_stopped, args=(url, count, limit, stop, pages), daemon=True)
    proc.start()
    try:
        while pages.value == 0:  # the readers are in full swing once the first page is back
            if not proc.is_alive():
                raise RuntimeError("the reader process died")
            time.sleep(0.05)
        yield pages
    finally:
        stop.set()
        proc.join(timeout=60)


async def acks_under_readers(url: str, args: argparse.Namespace, ids: Counter) -> tuple[list[float], int]:
    with reader_process(url, args.readers, args.limit) as pages:
        before = pages.value
        latencies = await open_loop(url, args.seconds, args.rate, ids)
        return latencies, pages.value - before


async def post_all(url: str, bodies: list[bytes], concurrency: int = 8) -> None:
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60) as client:

        async def one() -> None:
            while queue:
                (await client.post("/alertmanager", content=queue.pop())).raise_for_status()

        await asyncio.gather(*(one() for _ in range(concurrency)))


def big_body(n: int) -> bytes:
    doc = json.loads(body(10_000_000 + n))
    doc["alerts"] = doc["alerts"][:1]
    doc["alerts"][0]["labels"]["blob"] = f"{n:06d}" + "x" * (1 << 20)
    return json.dumps(doc).encode()


def p(lat: list[float], q: int) -> float:
    return statistics.quantiles(lat, n=100)[q - 1] * 1000


async def storm_with_readers(url: str, args: argparse.Namespace, wal: Path) -> tuple[float, float]:
    biggest = 0.0
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal biggest
        while not stop.is_set():
            biggest = max(biggest, wal.stat().st_size / 2**20 if wal.exists() else 0.0)
            await asyncio.sleep(0.2)

    with reader_process(url, args.readers, args.limit):
        watcher = asyncio.create_task(watch())
        await post_all(url, [body(20_000_000 + n) for n in range(4000)])
        await asyncio.sleep(3.0)  # a few housekeeping rounds after the storm
        stop.set()
        await watcher
    return biggest, wal.stat().st_size / 2**20 if wal.exists() else 0.0


def acks(url: str, args: argparse.Namespace, ids: Counter) -> None:
    quiet = asyncio.run(open_loop(url, args.seconds, args.rate, ids))
    loaded, pages = asyncio.run(acks_under_readers(url, args, ids))
    print(f"acks at {args.rate:.0f}/s, no readers: p50 {p(quiet, 50):.1f}, p99 {p(quiet, 99):.1f} ms")
    print(
        f"acks with {args.readers} readers: p50 {p(loaded, 50):.1f} ms, p99 {p(loaded, 99):.1f} ms "
        f"({pages} pages of {args.limit} read; p99 ratio {p(loaded, 99) / p(quiet, 99):.2f})"
    )


def queue_depth(url: str) -> float:
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    family = next(f for f in families if f.name == "llm_sre_webhook_queue_depth")
    return sum(sample.value for sample in family.samples)


def rss(url: str, pid: int) -> None:
    before = rss_mib(pid)
    asyncio.run(post_all(url, [big_body(n) for n in range(400)], concurrency=4))
    at_ack = rss_mib(pid)
    # What is kept, not what the worker holds while it catches up: measured once the queue is empty.
    wait_until(lambda: queue_depth(url) == 0, timeout=300, what="the worker to drain the queue")
    after = rss_mib(pid)
    print(
        f"RSS: {before:.0f} MiB before, {at_ack:.0f} MiB at the last ack, {after:.0f} MiB once the queue "
        f"drained, after 400 x 1 MB bodies ({after / before:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--readers", type=int, default=32)
    parser.add_argument("--limit", type=int, default=500, help="incidents per page the readers ask for")
    parser.add_argument("--preload", type=int, default=600, help="incidents stored before measuring")
    parser.add_argument("--parts", default="acks,rss,wal", help="which measurements (comma-separated)")
    args = parser.parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server("serve", Path(tmp))
        try:
            ids = Counter()
            asyncio.run(post_all(url, [body(ids.next()) for _ in range(args.preload)]))
            if "acks" in parts:
                acks(url, args, ids)
            if "rss" in parts:
                rss(url, proc.proc.pid)
            if "wal" in parts:
                peak, end = asyncio.run(storm_with_readers(url, args, Path(tmp) / "data" / "webhook.db-wal"))
                print(f"WAL, 4,000 notifications, {args.readers} readers: peak {peak:.1f}, end {end:.1f} MiB")
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
