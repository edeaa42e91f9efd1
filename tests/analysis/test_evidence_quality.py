"""The deterministic summary reads right: a line's declared level wins over its words, noise is not
evidence, and the headline is a sentence a person reads — not an INFO line, not a label dump."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.grounding import ground_answer, sentences
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.logpatterns import level_of
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.analysis.sources import Finding, describe_series
from alert_webhooks.schemas import Notification
from tests.analysis.payloads import payload

BATCH = "2026-11-26 23:09:12 INFO ingest-worker processed batch=512 docs in 3.2s"
NOISE = [
    "2026-11-26 23:09:30 INFO GET /healthz 200",
    "scrape ok",
    "2026-11-26 23:09:31 DEBUG trace span=9f2c exported",
]


@pytest.mark.parametrize(
    ("line", "level"),
    [
        (BATCH, "info"),  # "512" looks like an HTTP 5xx; the line says INFO
        ('{"level": "info", "msg": "retry budget 500 left"}', "info"),
        ('level=WARN msg="upstream 503"', "warning"),
        ("redis.exceptions.ResponseError: OOM command not allowed", "critical"),  # no level: words
        ("socket.gaierror: [Errno -3] Temporary failure in name resolution", "error"),
    ],
)
def test_the_declared_level_wins_over_the_words(line: str, level: str) -> None:
    assert level_of(line) == level


class AnalystWith:
    """A Prometheus stand-in as an evidence source: the series a storm alert brings along."""

    name = "prometheus"

    def __init__(self, *findings: Finding) -> None:
        self.findings = list(findings)

    async def collect(self, case: object) -> list[Finding]:
        return self.findings


def analyse(kb: KnowledgeBase, logs: list[str], *findings: Finding) -> AnalysisResult:
    alert = {
        "labels": {"alertname": "IngestErrorsHigh", "service": "ingest-worker", "severity": "warning"},
        "annotations": {"summary": "ingest-worker fails to write chunks"},
    }
    note = Notification.model_validate(payload([alert]))
    analyst = IncidentAnalyst(kb, sources=[AnalystWith(*findings)], registry=CollectorRegistry())
    return asyncio.run(analyst.first("q1", note, logs=logs))


def test_noise_is_not_evidence_and_an_info_line_never_leads(kb: KnowledgeBase) -> None:
    failing = "2026-11-26 23:10:02 WARNING chunk write retried for batch-77"
    result = analyse(kb, [BATCH] * 6 + NOISE * 3 + [failing])
    texts = [e.text for e in result.evidence]
    assert not [n for n in NOISE if n in texts]
    headline = next(s for s in sentences(result.summary) if s.startswith("Most telling"))
    assert "chunk write retried" in headline and "batch=512" not in headline
    assert (
        ground_answer({"s": result.summary}, {e.id: e.grounding_text() for e in result.evidence}).dropped == 0
    )


def test_a_series_headline_is_a_sentence_not_a_label_dump(kb: KnowledgeBase) -> None:
    metric = {
        "__name__": "llm_sre_genai_errors_total",
        "gen_ai_operation_name": "chat",
        "service": "ingest-worker",
        "gen_ai_provider_name": "ollama",
        "gen_ai_request_model": "qwen2.5:7b",
        "instance": "10.0.0.4:9464",
    }
    at = datetime(2026, 11, 26, 23, 10, tzinfo=UTC)
    series = describe_series(
        "rule `rate(llm_sre_genai_errors_total[5m]) > 1`",
        metric,
        [[at.timestamp() - 600, "0.1"], [at.timestamp(), "9"]],
        at,
    )
    result = analyse(kb, [], series)
    headline = next(s for s in sentences(result.summary) if s.startswith("Most telling"))
    series_words = "llm_sre_genai_errors_total for service=ingest-worker went from 0.1 to 9 (max 9)"
    assert headline.startswith(f"Most telling evidence: {series_words}")
    assert "{" not in headline
    assert ground_answer({"s": headline}, {e.id: e.grounding_text() for e in result.evidence}).dropped == 0
