"""An alert storm: 10,000 alerts across 200 groups as Alertmanager would send them (each notification
carries the whole group so far). Every notification is stored, memory stays bounded, and each group is
delivered once to Slack and once to Grafana. The ack latency p50/p99 is printed, not asserted."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from llm_sre.processes import free_port, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import AUTH, GRAFANA_TOKEN, delivered_count, notification, serve, sink_env

pytestmark = pytest.mark.e2e

GROUPS = 200
STEPS = 10  # notifications per group
ALERTS_PER_STEP = 5  # 200 groups × 10 steps × 5 new alerts = 10,000 alerts


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_ten_thousand_alerts_in_two_hundred_groups(tmp_path: Path) -> None:
    with FakeSlackWebhook() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        port = free_port()
        service = serve(tmp_path, port, sink_env(slack, grafana))
        assert service.proc is not None
        rss_before = rss_kib(service.proc.pid)
        bodies = [
            notification(group=f"g{g}", alerts=(step + 1) * ALERTS_PER_STEP)
            for step in range(STEPS)
            for g in range(GROUPS)
        ]
        latencies: list[float] = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=30) as client:

                def send(body: dict) -> int:
                    start = time.perf_counter()
                    code = client.post("/alertmanager", json=body).status_code
                    latencies.append(time.perf_counter() - start)
                    return code

                started = time.perf_counter()
                with ThreadPoolExecutor(8) as pool:
                    codes = list(pool.map(send, bodies))
                elapsed = time.perf_counter() - started
                wait_until(lambda: delivered_count(port) == GROUPS, 120, 0.5, what="every group delivered")
                incidents = client.get("/api/v1/incidents", params={"limit": 500}).json()
                metrics = client.get("/metrics").text
            rss_after = rss_kib(service.proc.pid)
        finally:
            service.stop()

    assert codes == [200] * len(bodies)
    assert incidents["total"] == GROUPS
    assert {i["alerts"] for i in incidents["items"]} == {STEPS * ALERTS_PER_STEP}
    assert f'llm_sre_webhook_notifications_total{{outcome="accepted"}} {float(len(bodies))}' in metrics
    assert len(slack.messages) == GROUPS
    assert len(grafana.annotations) == GROUPS
    assert len([r for r in grafana.requests if r.method == "POST"]) == GROUPS
    # Bounded: the queue lives in SQLite, so the heap does not hold the storm.
    assert rss_after - rss_before < 200 * 1024, (rss_before, rss_after)
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\nstorm: {len(bodies)} notifications ({GROUPS * STEPS * ALERTS_PER_STEP} alerts) in {elapsed:.1f}s "
        f"({len(bodies) / elapsed:.0f}/s), ack p50 {q[49] * 1000:.1f} ms p99 {q[98] * 1000:.1f} ms, "
        f"RSS {rss_before // 1024} → {rss_after // 1024} MiB"
    )
