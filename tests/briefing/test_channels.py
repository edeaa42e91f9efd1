"""Reports reach a real Redis: the 5-minute container health report, the daily digest (also to Slack,
Grafana and context_reports/), and the backlog that keeps reports while Redis is down."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from grafana_client import GrafanaApi
from grafana_client.client import TokenAuth
from prometheus_client import CollectorRegistry
from slack_sdk.webhook import WebhookClient

from alert_webhooks.schemas import Notification
from alert_webhooks.sqlite_store import SqliteStore
from briefing.backfill import backfilled_prometheus
from briefing.briefer import Briefer
from briefing.digest import Digest
from briefing.health import container_health
from briefing.items import iso
from briefing.prometheus import Prometheus
from briefing.publish import GrafanaAnnotator, RedisChannels, SlackPoster
from exporters.catalogue import metrics
from llm_sre.processes import free_port, redis_server, wait_until
from tests.briefing.conftest import Week, pings
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import notification

GRAFANA_TOKEN = "glsa_briefingTestServiceAccountToken_0123456789"


class Subscriber:
    """A real Redis subscriber collecting JSON messages of one channel."""

    def __init__(self, url: str, channel: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        self.pubsub.get_message(timeout=2)  # the subscribe confirmation
        self.received: list[dict] = []

    def wait(self, count: int, timeout: float = 10) -> list[dict]:
        def enough() -> bool:
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                self.received.append(json.loads(message["data"]))
            return len(self.received) >= count

        wait_until(enough, timeout, interval=0, what=f"{count} message(s)")
        return self.received

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


def _health_week(end: float) -> str:
    """An hour of the container exporter's series: api healthy, worker unhealthy with errors and a restart."""
    lines: dict[str, list[str]] = {}
    for i in range(13):
        t = end - 3600 + i * 300
        for name, healthy, memory, cpu in (
            ("api", True, 512 * 2**20, 0.12),
            ("worker", False, 256 * 2**20, 0.5),
        ):
            lab = f'compose_service="{name}",job="exporter",name="{name}"'
            status = "healthy" if healthy else "unhealthy"
            lines.setdefault("llm_sre_container_up gauge", []).append(
                f"llm_sre_container_up{{{lab}}} 1 {t:.0f}"
            )
            lines.setdefault("llm_sre_container_health_status gauge", []).append(
                f'llm_sre_container_health_status{{{lab},status="{status}"}} 1 {t:.0f}'
            )
            lines.setdefault("llm_sre_container_memory_working_set_bytes gauge", []).append(
                f"llm_sre_container_memory_working_set_bytes{{{lab}}} {memory} {t:.0f}"
            )
            lines.setdefault("llm_sre_container_cpu_usage_seconds counter", []).append(
                f"llm_sre_container_cpu_usage_seconds_total{{{lab}}} {cpu * 300 * i} {t:.0f}"
            )
            errors = 0 if healthy else (0 if i < 12 else 3)
            lines.setdefault("llm_sre_container_log_errors counter", []).append(
                f'llm_sre_container_log_errors_total{{{lab},pattern="error"}} {errors} {t:.0f}'
            )
            lines.setdefault("llm_sre_container_restarts counter", []).append(
                f"llm_sre_container_restarts_total{{{lab}}} {0 if healthy or i < 12 else 1} {t:.0f}"
            )
    out = [line for family, found in lines.items() for line in (f"# TYPE {family}", *found)]
    return "\n".join([*out, "# EOF"]) + "\n"  # fmt: skip


def test_container_health_report_reaches_a_subscriber_in_the_documented_shape(redis_url, tmp_path) -> None:
    end = time.time() // 300 * 300 - 3600
    with backfilled_prometheus(_health_week(end), [], end - 3600, end, tmp_path) as url:
        report = asyncio.run(container_health(Prometheus(url), end))
    sub = Subscriber(redis_url, "slm.reports")
    try:
        channels = RedisChannels(aioredis.Redis.from_url(redis_url), metrics(CollectorRegistry()))
        assert asyncio.run(channels.publish("reports", report)) is True
        (got,) = sub.wait(1)
    finally:
        sub.close()
    assert set(got) == {"type", "timestamp", "containers", "summary"}
    assert got["type"] == "container_health" and got["timestamp"] == iso(end)
    by_name = {c["name"]: c for c in got["containers"]}
    assert by_name["api"] == {
        "name": "api",
        "cpu": "12%",
        "memory": "512MB",
        "status": "healthy",
        "errors": 0,
    }
    assert by_name["worker"] == {"name": "worker", "cpu": "50%", "memory": "256MB", "status": "unhealthy",
                                 "errors": 3}  # fmt: skip
    assert got["summary"].startswith("worker is unhealthy and logged 3 error line(s) and restarted 1 time(s)")


def test_health_report_without_prometheus_says_why_instead_of_going_silent() -> None:
    report = asyncio.run(
        container_health(Prometheus(f"http://127.0.0.1:{free_port()}", timeout=2), time.time())
    )
    assert report["containers"] == [] and "unreachable" in report["summary"] and report["error"]


def _store(path: Path, at: float) -> SqliteStore:
    store = SqliteStore(path)
    started = iso(at - 6 * 3600)
    for n, (alertname, severity) in enumerate(
        [("LLMErrorBurst", "critical"), ("LLMErrorBurst", "critical"), ("RAGEmptyRetrievals", "warning")]
    ):
        body = notification(group=f"g{n}", starts=started, severity=severity, alertname=alertname)
        body["commonLabels"]["service"] = body["alerts"][0]["labels"]["service"] = "llm-app"
        store.ingest(Notification.model_validate(body), now=at - 6 * 3600 + n)
    return store


def test_daily_digest_reaches_redis_slack_grafana_and_the_context_report(
    week: Week, redis_url, tmp_path
) -> None:
    at = week.scenario.leak_crosses - 1.5 * 86400
    store = _store(tmp_path / "webhook.db", at)
    registry = CollectorRegistry()
    m = metrics(registry)
    sub = Subscriber(redis_url, "slm.reports")
    with FakeSlackWebhook() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        digest = Digest(
            Briefer(Prometheus(week.url, timeout=30), store, None, m),
            86400,
            SlackPoster(webhook=WebhookClient(slack.url, timeout=5)),
            GrafanaAnnotator(
                GrafanaApi.from_url(grafana.url, credential=TokenAuth(GRAFANA_TOKEN), timeout=5)
            ),
            RedisChannels(aioredis.Redis.from_url(redis_url), m),
            tmp_path / "context_reports",
        )
        try:
            b, outcomes = asyncio.run(digest.run(at))
            (got,) = sub.wait(1)
        finally:
            sub.close()
            store.close()
        posted, annotations = slack.messages, list(grafana.annotations.values())
    assert outcomes == {"context_report": "ok", "slack": "ok", "grafana": "ok", "redis": "ok"}
    assert got["type"] == "briefing" and got["period"]["end"] == iso(at) and got["text"] == b.text
    # Ranked by severity x duration x repeats: two critical LLMErrorBurst incidents first.
    assert [(i["alertname"], i["repeats"]) for i in got["top_issues"]] == [
        ("LLMErrorBurst", 2), ("RAGEmptyRetrievals", 1)]  # fmt: skip
    assert any(w["subject"] == "chroma" for w in got["early_warnings"])
    assert got["missing"] == [] and got["llm"]["reason"] == "no LLM configured"
    slack_text = "\n".join(block["text"]["text"] for block in posted[0]["blocks"])
    assert "*Top issues*" in slack_text and "*LLMErrorBurst* on llm-app" in slack_text
    assert annotations[0]["tags"] == ["llm-sre", "briefing"] and "LLMErrorBurst" in annotations[0]["text"]
    (report,) = (tmp_path / "context_reports").glob("*.md")
    assert report.name == f"{time.strftime('%Y-%m-%d', time.localtime(at))}.md"
    assert (
        "## Evidence" in report.read_text()
        and "llm_sre_container_memory_working_set_bytes" in report.read_text()
    )
    assert registry.get_sample_value("llm_sre_briefings_total", {"prose": "deterministic"}) == 1
    assert registry.get_sample_value("llm_sre_reports_published_total", {"channel": "reports"}) == 1


def test_reports_wait_while_redis_is_down_and_go_out_in_order_when_it_is_back(tmp_path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    registry = CollectorRegistry()
    channels = RedisChannels(
        aioredis.Redis.from_url(url, socket_connect_timeout=1), metrics(registry), backlog=3
    )
    loop = asyncio.new_event_loop()  # one loop for both phases: the client's pool belongs to it
    try:
        down = [loop.run_until_complete(channels.publish("reports", {"n": n})) for n in range(5)]
        assert down == [False] * 5 and channels.pending == 3  # the two oldest were dropped
        assert registry.get_sample_value("llm_sre_reports_dropped_total", {"channel": "reports"}) == 2
        proc = redis_server(tmp_path / "redis", port, tmp_path).start()
        try:
            client = redis.Redis(port=port)
            wait_until(lambda: pings(client), 10, what="redis")
            client.close()
            sub = Subscriber(url, "slm.reports")
            assert loop.run_until_complete(channels.publish("reports", {"n": 5})) is True
            # The backlog holds 3: the new report pushes out one more of the old ones.
            assert [m["n"] for m in sub.wait(3)] == [3, 4, 5]
            sub.close()
            assert channels.pending == 0
            assert registry.get_sample_value("llm_sre_reports_published_total", {"channel": "reports"}) == 3
            assert registry.get_sample_value("llm_sre_reports_dropped_total", {"channel": "reports"}) == 3
        finally:
            proc.stop()
    finally:
        loop.close()


@pytest.mark.parametrize("secret", ["sk-live-0123456789abcdefABCDEF0123456789"])
def test_reports_are_masked_before_they_leave(redis_url, secret) -> None:
    sub = Subscriber(redis_url, "slm.alerts")
    try:
        channels = RedisChannels(aioredis.Redis.from_url(redis_url), metrics(CollectorRegistry()))
        asyncio.run(channels.publish("alerts", {"summary": f"api_key={secret} leaked into a label"}))
        (got,) = sub.wait(1)
    finally:
        sub.close()
    assert secret not in json.dumps(got)
