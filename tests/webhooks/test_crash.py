"""Processes dying mid-work (SIGKILL, real sockets, real redis-server).

* One SQLite service killed with 100 groups queued and deliveries in flight: after a restart every
  group reaches each sink; Grafana exactly once (the incident-tag lookup adopts a create whose answer
  was lost); Slack can repeat only a POST that was in flight at the kill.
* Two services sharing Redis Streams: one is killed; the other claims its pending entries.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from llm_sre.processes import ManagedProcess, free_port, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import GRAFANA_TOKEN, delivered_count, notification, post, serve, sink_env

pytestmark = pytest.mark.e2e

CONCURRENCY = 4


class SlowSlack(FakeSlackWebhook):
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        time.sleep(0.01)  # a real round trip, so the kill lands mid-delivery
        return super().handle(method, path, headers, body)


@pytest.fixture
def sinks() -> Iterator[tuple[SlowSlack, FakeGrafana]]:
    with SlowSlack() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        yield slack, grafana


def assert_each_group_delivered_once(slack: FakeSlackWebhook, grafana: FakeGrafana, groups: int) -> int:
    """Assert the sinks' counts; return how many Slack messages were repeats."""
    per_group = collections.Counter(m["text"].split("svc-")[1].split(":")[0] for m in slack.messages)
    assert set(per_group) == {f"g{n}" for n in range(groups)}
    duplicates = sum(per_group.values()) - groups
    assert duplicates <= CONCURRENCY  # only a POST in flight at the kill can repeat
    tags = collections.Counter(
        t for a in grafana.annotations.values() for t in a["tags"] if t.startswith("llm-sre-incident-")
    )
    assert len(tags) == groups and set(tags.values()) == {1}  # exactly one annotation per incident
    assert len(grafana.annotations) == groups
    return duplicates


def test_sigkill_mid_delivery_then_restart_delivers_every_group(tmp_path: Path, sinks) -> None:
    slack, grafana = sinks
    env = {**sink_env(slack, grafana), "LLM_SRE_WORKER_CONCURRENCY": str(CONCURRENCY)}
    port = free_port()
    service = serve(tmp_path, port, env)
    try:
        for n in range(100):
            assert post(port, notification(group=f"g{n}")) == 200
        wait_until(lambda: len(slack.messages) >= 20, 30, 0.01, what="some deliveries before the kill")
        service.kill()
        at_kill = len(slack.messages)
        assert at_kill < 100, "everything was delivered before the kill: nothing was tested"
        service = serve(tmp_path, port, env)
        wait_until(lambda: delivered_count(port) == 100, 60, 0.2, what="every group delivered after restart")
    finally:
        service.stop()
    duplicates = assert_each_group_delivered_once(slack, grafana, 100)
    print(f"SQLite: killed after {at_kill}/100 Slack messages; Slack repeats after restart: {duplicates}")


def test_two_services_share_redis_and_one_takes_over_when_the_other_dies(
    tmp_path: Path, sinks, redis_url: str
) -> None:
    slack, grafana = sinks
    env = {
        **sink_env(slack, grafana),
        "LLM_SRE_STORE": "redis",
        "REDIS_URL": redis_url,
        "LLM_SRE_WORKER_CONCURRENCY": str(CONCURRENCY // 2),
        "LLM_SRE_LEASE_SECONDS": "2",
    }
    ports = free_port(), free_port()
    services: list[ManagedProcess] = [serve(tmp_path / f"s{i}", port, env) for i, port in enumerate(ports)]
    try:
        for n in range(60):
            assert post(ports[n % 2], notification(group=f"g{n}")) == 200
        wait_until(lambda: len(slack.messages) >= 10, 30, 0.01, what="deliveries before the kill")
        services[0].kill()
        at_kill = len(slack.messages)
        assert at_kill < 60, "everything was delivered before the kill: nothing was tested"
        wait_until(lambda: delivered_count(ports[1]) == 60, 60, 0.2, what="the survivor delivers everything")
        consumers = redis.Redis.from_url(redis_url).xinfo_consumers("llm-sre:queue:0", "workers")
        assert len(consumers) == 2  # both processes consumed from the one group
    finally:
        for service in services:
            service.stop()
    duplicates = assert_each_group_delivered_once(slack, grafana, 60)
    print(f"Redis: killed one of two after {at_kill}/60 Slack messages; Slack repeats: {duplicates}")
