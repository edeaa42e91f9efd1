"""Specialist readings are reused for a short while: a storm costs Prometheus one set of queries.

A real Prometheus answers, and counts the queries it served in its own
``prometheus_http_requests_total`` (its /metrics).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from analysts.base import Query
from analysts.prometheus import CachedPrometheus
from llm_sre.processes import free_port, prometheus

QUERIES = (Query("one", "a constant", "vector(1)"),)


@pytest.fixture
def prom(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 15s}\n")
    port = free_port()
    proc = prometheus(config, tmp_path / "data", port, tmp_path).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def served(url: str) -> float:
    """Queries Prometheus has answered, from its own /metrics."""
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
    family = next(f for f in families if f.name == "prometheus_http_requests")
    return sum(s.value for s in family.samples if s.labels.get("handler") == "/api/v1/query")


def test_readings_are_reused_within_the_ttl_and_read_again_after(prom: str) -> None:
    now = [0.0]
    cached = CachedPrometheus(prom, ttl=15, timer=lambda: now[0])
    first = asyncio.run(cached.read(QUERIES))
    assert first["one"].now == 1
    before = served(prom)
    for _ in range(5):
        assert asyncio.run(cached.read(QUERIES)) == first
    assert served(prom) == before
    now[0] = 16.0
    assert asyncio.run(cached.read(QUERIES))["one"].now == 1
    assert served(prom) == before + 2  # the read asked again: now and one hour earlier
