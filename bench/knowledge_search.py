"""Knowledge search at 10,000 documents: the Redis index of our own against SQLite's FTS5 (issue 19).

    .venv/bin/python bench/knowledge_search.py [--docs 10000] [--queries 300]

Both bases get the shipped runbooks plus ``--docs`` synthetic past cases built from the runbooks'
own sentences (shuffled, mixed, with random service names and numbers), against a real
redis-server started here. Printed: search latency p50/p99 on each backend, the Redis index at full
size against itself at 100 documents (does a query stay as cheap as the base grows?), the Redis
p99 against FTS5's (the baseline), and how often both put the same document first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from alert_webhooks.analysis.knowledge import KnowledgeBase, KnowledgeInput  # noqa: E402
from alert_webhooks.analysis.redis_knowledge import RedisKnowledgeBase  # noqa: E402
from alert_webhooks.analysis.runbooks import load_runbooks  # noqa: E402
from llm_sre.processes import free_port, redis_server, wait_until  # noqa: E402


def synthetic(runbooks: list[KnowledgeInput], count: int, rng: random.Random) -> list[KnowledgeInput]:
    sentences = [s for r in runbooks for s in (*r.symptoms, *r.root_causes, *r.solutions)]
    docs = []
    for n in range(count):
        base = rng.choice(runbooks)
        docs.append(
            KnowledgeInput(
                id=f"case-{n}",
                category=base.category,
                title=f"{base.title} on svc-{rng.randrange(300)} ({rng.randrange(1000)})",
                symptoms=rng.sample(sentences, 2),
                root_causes=rng.sample(sentences, 1),
                solutions=rng.sample(sentences, 2),
                tags=[*base.tags[:2], f"team-{rng.randrange(40)}"],
            )
        )
    return docs


def latencies(search, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        search(q, 5)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(19)
    runbooks = list(load_runbooks())
    cases = synthetic(runbooks, args.docs, rng)
    sentences = [s for r in runbooks for s in (*r.symptoms, *r.root_causes)]
    queries = [" ".join(rng.sample(sentences, 2)) for _ in range(args.queries)]

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = redis_server(Path(tmp) / "redis", port, Path(tmp)).start()
        try:
            client = redis.Redis(port=port)
            wait_until(client.ping, 15, what="redis-server")
            small = RedisKnowledgeBase(client, prefix="small")
            small.seed(runbooks)
            small.bulk_import(cases[: max(0, 100 - len(runbooks))])
            small_ms = latencies(small.search, queries)

            sqlite = KnowledgeBase(Path(tmp) / "knowledge.db")
            big = RedisKnowledgeBase(client, prefix="big")
            for kb in (sqlite, big):
                started = time.perf_counter()
                kb.seed(runbooks)
                kb.bulk_import(cases)
                print(
                    f"{type(kb).__name__}: loaded {len(runbooks) + len(cases)} docs "
                    f"in {time.perf_counter() - started:.1f}s"
                )
            sqlite_ms, big_ms = latencies(sqlite.search, queries), latencies(big.search, queries)
            same = sum(
                (a := sqlite.search(q, 1))
                and (b := big.search(q, 1))
                and a[0].document.id == b[0].document.id
                for q in queries
            )
        finally:
            server.stop()
    total = len(runbooks) + len(cases)
    for name, ms in (("sqlite fts5", sqlite_ms), ("redis index", big_ms), ("redis @100", small_ms)):
        print(f"{name:12} search p50 {p(ms, 50):7.2f} ms   p99 {p(ms, 99):7.2f} ms")
    print(f"redis p99 at {total} docs / at 100 docs: {p(big_ms, 99) / p(small_ms, 99):.2f}x")
    print(f"redis p99 / sqlite fts5 p99 (baseline) at {total} docs: {p(big_ms, 99) / p(sqlite_ms, 99):.2f}x")
    print(f"same first hit on both backends: {same}/{len(queries)}")


if __name__ == "__main__":
    main()
