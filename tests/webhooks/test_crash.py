"""Processes dying mid-work (SIGKILL, real sockets, real redis-server).

* One SQLite service killed with 100 groups queued and deliveries in flight: after a restart every
  group reaches each sink; Grafana exactly once (the incident-tag lookup adopts a create whose answer
  was lost); a Slack bot exactly once (the metadata lookup does the same); a Slack incoming webhook
  can repeat only a POST that was in flight at the kill, and the repeat says so (or, with the
  ``skip`` policy, such a POST is not re-sent and the API reports it as uncertain).
* Two services sharing Redis Streams: one is killed; the other claims its pending entries.
"""

from __future__ import annotations

import collections
import time
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from alert_webhooks.delivery.slack import REPEAT_NOTE, WEBHOOK_UNCERTAIN
from llm_sre.processes import ManagedProcess, free_port, redis_server, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import GRAFANA_TOKEN, delivered_count, incidents, notification, post, serve
from tests.webhooks.slack_api import BOT_TOKEN, CHANNEL, FakeSlackApi

pytestmark = pytest.mark.e2e

CONCURRENCY = 4


class SlowSlack(FakeSlackWebhook):
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        time.sleep(0.01)  # a real round trip, so the kill lands mid-delivery
        return super().handle(method, path, headers, body)


@dataclass
class Sinks:
    grafana: FakeGrafana
    env: dict[str, str]
    messages: Callable[[], list[dict[str, Any]]]  # top-level Slack messages so far
    max_repeats: int  # Slack posts a kill may repeat
    max_missing: int = 0  # Slack posts a kill may lose


@pytest.fixture(params=["webhook", "bot"])
def sinks(request: pytest.FixtureRequest) -> Iterator[Sinks]:
    """Slack as an incoming webhook (no idempotency: a post in flight at the kill is re-sent marked as
    a possible repeat, or with ``webhook-skip`` not re-sent and possibly lost) or as a bot (the post
    carries the incident id as metadata and is looked up after a crash: exactly once)."""
    with FakeGrafana(GRAFANA_TOKEN) as grafana:
        grafana_env = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": GRAFANA_TOKEN}
        if request.param.startswith("webhook"):
            skip = request.param == "webhook-skip"
            with SlowSlack() as hook:
                env = {**grafana_env, "SLACK_WEBHOOK_URL": f"{hook.url}/services/T/B/x"}
                if skip:
                    env["LLM_SRE_SLACK_WEBHOOK_UNCERTAIN"] = "skip"
                limits = (0, CONCURRENCY) if skip else (CONCURRENCY, 0)
                yield Sinks(grafana, env, lambda: hook.messages, *limits)
        else:
            with FakeSlackApi(delay=0.01) as api:
                env = {
                    **grafana_env,
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_CHANNEL": CHANNEL,
                    "SLACK_API_URL": f"{api.url}/api/",
                }
                yield Sinks(grafana, env, api.top_level, 0)


def _group(message: dict[str, Any]) -> str:
    return message["text"].split("svc-")[1].split(":")[0]


def assert_each_group_delivered_once(sinks: Sinks, groups: int, uncertain: set[str] = frozenset()) -> int:
    """Assert the sinks' counts; return how many Slack messages were repeats. ``uncertain``: the
    groups whose Slack delivery the service reports as ``webhook:uncertain``."""
    per_group = collections.Counter(_group(m) for m in sinks.messages())
    missing = {f"g{n}" for n in range(groups)} - set(per_group)
    assert len(missing) <= sinks.max_missing and missing <= uncertain  # a loss is never silent
    repeats = sum(per_group.values()) - len(per_group)
    assert repeats <= sinks.max_repeats  # only a webhook POST in flight at the kill can repeat
    noted = {_group(m) for m in sinks.messages() if REPEAT_NOTE in m["text"]}
    assert {g for g, count in per_group.items() if count > 1} <= noted  # every repeat says it may be one
    tags = collections.Counter(
        t for a in sinks.grafana.annotations.values() for t in a["tags"] if t.startswith("llm-sre-incident-")
    )
    assert len(tags) == groups and set(tags.values()) == {1}  # exactly one annotation per incident
    assert len(sinks.grafana.annotations) == groups
    return repeats


def uncertain_groups(port: int) -> set[str]:
    items = incidents(port)
    return {
        i["service"].removeprefix("svc-")
        for i in items
        for d in i["deliveries"]
        if d["sink"] == "slack" and d["ref"] == WEBHOOK_UNCERTAIN
    }


@pytest.mark.parametrize("sinks", ["webhook", "webhook-skip", "bot"], indirect=True)
def test_sigkill_mid_delivery_then_restart_delivers_every_group(tmp_path: Path, sinks: Sinks) -> None:
    env = {**sinks.env, "LLM_SRE_WORKER_CONCURRENCY": str(CONCURRENCY)}
    port = free_port()
    service = serve(tmp_path, port, env)
    try:
        for n in range(100):
            assert post(port, notification(group=f"g{n}")) == 200
        wait_until(lambda: len(sinks.messages()) >= 20, 30, 0.01, what="some deliveries before the kill")
        service.kill()
        at_kill = len(sinks.messages())
        assert at_kill < 100, "everything was delivered before the kill: nothing was tested"
        service = serve(tmp_path, port, env)
        wait_until(lambda: delivered_count(port) == 100, 60, 0.2, what="every group delivered after restart")
        uncertain = uncertain_groups(port)
    finally:
        service.stop()
    repeats = assert_each_group_delivered_once(sinks, 100, uncertain)
    print(
        f"SQLite: killed after {at_kill}/100 Slack messages; Slack repeats after restart: {repeats}, "
        f"reported uncertain: {len(uncertain)}, missing: {100 - len({_group(m) for m in sinks.messages()})}"
    )


def test_two_services_share_redis_and_one_takes_over_when_the_other_dies(
    tmp_path: Path, sinks: Sinks, redis_url: str
) -> None:
    env = {
        **sinks.env,
        "LLM_SRE_STORE": "redis",
        "REDIS_URL": redis_url,
        "LLM_SRE_WORKER_CONCURRENCY": str(CONCURRENCY // 2),
        "LLM_SRE_LEASE_SECONDS": "2",
    }
    redis.Redis.from_url(redis_url).flushall()  # the server is shared by this module's tests
    ports = free_port(), free_port()
    services: list[ManagedProcess] = [serve(tmp_path / f"s{i}", port, env) for i, port in enumerate(ports)]
    try:
        for n in range(60):
            assert post(ports[n % 2], notification(group=f"g{n}")) == 200
        wait_until(lambda: len(sinks.messages()) >= 10, 30, 0.01, what="deliveries before the kill")
        services[0].kill()
        at_kill = len(sinks.messages())
        assert at_kill < 60, "everything was delivered before the kill: nothing was tested"
        wait_until(lambda: delivered_count(ports[1]) == 60, 60, 0.2, what="the survivor delivers everything")
        consumers = redis.Redis.from_url(redis_url).xinfo_consumers("llm-sre:queue:0", "workers")
        assert len(consumers) == 2  # both processes consumed from the one group
    finally:
        for service in services:
            service.stop()
    repeats = assert_each_group_delivered_once(sinks, 60)
    print(f"Redis: killed one of two after {at_kill}/60 Slack messages; Slack repeats: {repeats}")


def test_a_redis_restart_costs_retries_not_notifications(tmp_path: Path, sinks: Sinks) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> ManagedProcess:  # same dir: the AOF brings the queue back
        proc = redis_server(tmp_path / "redis", port, tmp_path).start()
        wait_until(redis.Redis.from_url(url).ping, 15, what="redis-server")
        return proc

    store = start_redis()
    web_port = free_port()
    service = serve(tmp_path, web_port, {**sinks.env, "LLM_SRE_STORE": "redis", "REDIS_URL": url})
    try:
        assert post(web_port, notification(group="g0")) == 200
        wait_until(lambda: delivered_count(web_port) == 1, 20, what="first delivery")
        store.stop()
        with pytest.raises(urllib.error.HTTPError) as refused:  # 5xx: Alertmanager will retry it
            post(web_port, notification(group="g1"))
        assert refused.value.code == 500
        store = start_redis()
        assert post(web_port, notification(group="g1")) == 200  # Alertmanager's retry
        wait_until(lambda: delivered_count(web_port) == 2, 30, what="delivery after the restart")
    finally:
        service.stop()
        store.stop()
    assert_each_group_delivered_once(sinks, 2)
