"""Evidence from a real Prometheus (scraping a local /metrics target) and a Loki query_range stand-in."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from alert_webhooks.analysis.analyst import AnalystConfig, IncidentAnalyst
from alert_webhooks.analysis.case import Case
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.sources import LokiSource, PrometheusSource, rule_expressions
from alert_webhooks.schemas import Notification
from exporters.catalogue import metrics
from llm_sre.processes import free_port, prometheus, wait_until
from tests.analysis.payloads import payload
from tests.fakes import Failure, FakeService

RULE = 'llm_sre_cache_entries{cache="embedding"} > 100000'


def notification(
    labels: dict[str, str], generator_url: str = "", starts_at: datetime | None = None, summary: str = ""
) -> Notification:
    alert = {"labels": labels, "annotations": {"summary": summary} if summary else {}}
    return Notification.model_validate(
        payload([alert], starts_at=starts_at or datetime.now(UTC), generator_url=generator_url)
    )


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory):
    """A real Prometheus scraping a local target every second; the target's series carry service=rag-api."""
    tmp = tmp_path_factory.mktemp("prom")
    registry = CollectorRegistry()
    metrics(registry)["llm_sre_cache_entries"].labels(cache="embedding").set(912334)
    metrics(registry)["llm_sre_cache_requests_total"].labels(cache="embedding", result="miss").inc(4821)
    target_port = free_port()
    server, _thread = start_http_server(target_port, addr="127.0.0.1", registry=registry)
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "app",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{target_port}"], "labels": {"service": "rag-api"}}
                ],
            }
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = prometheus(tmp / "prometheus.yml", tmp / "data", port, tmp).start()
    url = f"http://127.0.0.1:{port}"

    def scraped() -> bool:
        # Three scrapes, so rate() over the counters has samples to work with.
        query = urllib.parse.urlencode({"query": "count_over_time(llm_sre_cache_entries[1m]) >= 3"})
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=2) as resp:
            return bool(json.load(resp)["data"]["result"])

    wait_until(scraped, 30, what="prometheus to scrape the target three times")
    yield url
    proc.stop()
    server.shutdown()


@pytest.mark.e2e
def test_prometheus_rule_and_related_series(prom: str, kb: KnowledgeBase) -> None:
    generator = f"{prom}/graph?g0.expr={urllib.parse.quote(RULE)}&g0.tab=1"
    note = notification(
        {"alertname": "CacheEntriesHigh", "service": "rag-api", "cache": "embedding"}, generator
    )
    analyst = IncidentAnalyst(kb, sources=[PrometheusSource(prom)], registry=CollectorRegistry())
    result = asyncio.run(analyst.first("prom-1", note))

    texts = [e.text for e in result.evidence if e.source == "prometheus"]
    rule = next(t for t in texts if t.startswith("rule"))
    assert RULE in rule and "at incident start 912334" in rule
    # Related series found by the alert's service label: the miss counter, as a rate.
    assert any(
        'rate(llm_sre_cache_requests_total{service="rag-api"}[5m])' in t and 'result="miss"' in t
        for t in texts
    )
    assert not any("scrape_" in t for t in texts)
    assert result.category == "cache"


def test_rule_expression_comes_from_generator_url() -> None:
    url = "http://prom:9090/graph?g0.expr=" + urllib.parse.quote(RULE) + "&g0.tab=1"
    case = Case.from_notification(notification({"alertname": "X"}, url))
    assert rule_expressions(case) == [RULE]


def test_unreachable_prometheus_costs_evidence_not_the_analysis(kb: KnowledgeBase) -> None:
    note = notification({"alertname": "CacheEntriesHigh", "service": "rag-api"}, "http://x/graph?g0.expr=up")
    source = PrometheusSource(f"http://127.0.0.1:{free_port()}", timeout=1)
    result = asyncio.run(IncidentAnalyst(kb, sources=[source], registry=CollectorRegistry()).first("p", note))
    assert [e.source for e in result.evidence if e.source == "prometheus"] == []
    assert result.summary


class FakeLoki(FakeService):
    """``GET /loki/api/v1/query_range`` answering with Loki's documented ``streams`` result shape."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        route, _, query = path.partition("?")
        if route != "/loki/api/v1/query_range":
            return 404, {}, "404 page not found"
        end = int(urllib.parse.parse_qs(query)["end"][0])
        values = [[str(end - i * 1_000_000_000), line] for i, line in enumerate(self.lines)]  # newest first
        result = [{"stream": {"service": "rag-api"}, "values": values}]
        return (
            200,
            {},
            {"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}},
        )


def loki_lines() -> list[str]:
    lines = [
        f"ERROR ollama chat failed model=qwen2.5:7b request_id={i:04d} error=httpx.ReadTimeout"
        for i in range(40)
    ]
    return [*lines, "ERROR retry with Authorization: Bearer abcdef0123456789abcdef"]


def test_loki_query_and_patterns(kb: KnowledgeBase) -> None:
    starts = datetime(2026, 11, 26, 23, 10, tzinfo=UTC)
    with FakeLoki(loki_lines()) as loki:
        note = notification(
            {"alertname": "LLMErrorBurst", "service": "rag-api"},
            starts_at=starts,
            summary="35% of LLM calls fail",
        )
        analyst = IncidentAnalyst(kb, sources=[LokiSource(loki.url)], registry=CollectorRegistry())
        result = asyncio.run(analyst.first("loki-1", note))
        sent = urllib.parse.parse_qs(loki.requests[0].path.partition("?")[2])

    assert sent["query"][0].startswith('{service="rag-api"} |~ "(?i)(error|')
    assert int(sent["start"][0]) == int((starts - timedelta(minutes=10)).timestamp() * 1e9)
    assert int(sent["end"][0]) == int((starts + timedelta(minutes=2)).timestamp() * 1e9)
    assert sent["direction"] == ["backward"] and sent["limit"] == ["500"]
    found = [e for e in result.evidence if e.source == "loki"]
    logs = [e.text for e in found]
    assert (found[0].count, found[0].level) == (40, "error")  # 40 lines, one pattern
    assert logs[0].startswith("ERROR ollama chat failed model=qwen2.5:7b")
    assert "abcdef0123456789abcdef" not in result.model_dump_json()
    assert result.category == "llm"


def test_loki_failure_and_slowness_are_bounded(kb: KnowledgeBase, tmp_path: Path) -> None:
    with FakeLoki(loki_lines()) as loki:
        loki.failures.append(Failure(500, body="internal error"))
        note = notification({"alertname": "LLMErrorBurst", "service": "rag-api"})
        assert asyncio.run(LokiSource(loki.url).collect(Case.from_notification(note))) == []

        gate = asyncio.Event()

        class Stuck(LokiSource):
            async def collect(self, case: Case) -> list:
                await gate.wait()  # never set: only the analyst's evidence deadline ends this
                return []

        analyst = IncidentAnalyst(
            kb,
            sources=[Stuck(loki.url)],
            config=AnalystConfig(evidence_deadline=0.2),
            registry=CollectorRegistry(),
        )
        started = time.monotonic()
        result = asyncio.run(analyst.first("slow", note))
    assert result.summary and time.monotonic() - started < 10
