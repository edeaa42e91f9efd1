"""Every alert the project's own rules fire finds a runbook of the right category, by its name,
labels and annotations alone (no logs, no metrics): the floor of what on-call gets."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.schemas import Notification
from tests.analysis.conftest import BACKENDS
from tests.analysis.payloads import payload

RULES = Path(__file__).resolve().parents[2] / "rules"
# Alerts about a specific failure; generic log alerts (AppErrorBurst, ErrorLogSurge, …) are
# decided by their logs and are not listed.
EXPECTED = {
    "OllamaDown": "llm", "OllamaModelNotLoaded": "llm", "OllamaModelThrashing": "llm",
    "ContainerRestarting": "container", "ContainerOOMKilled": "container",
    "ContainerMemoryNearLimit": "container", "ContainerCPUThrottled": "container",
    "ContainerUnhealthy": "container", "LLMErrorBurst": "llm", "LLMLatencyHigh": "llm",
    "LLMTimeToFirstTokenHigh": "llm", "RAGEmptyRetrievals": "rag", "RAGRetrievalErrors": "rag",
    "CacheHitRateCollapse": "cache", "TargetDown": "connection", "WebhookDeadLetters": "connection",
    "WebhookDeadLettersGrowing": "connection",
    "WebhookDeliveryFailures": "connection", "WebhookQueueStalled": "performance",
    "AnalystFallbackRateHigh": "llm", "LLMAvailabilityBudgetBurn": "llm", "LLMLatencyBudgetBurn": "llm",
    "RAGRetrievalBudgetBurn": "rag", "EmbeddingCacheBudgetBurn": "cache",
    "WebhookDeliveryBudgetBurn": "connection",
}  # fmt: skip


def rule_alerts() -> list[dict]:
    found = []
    for path in sorted(RULES.glob("alerts/*.yml")) + sorted(RULES.glob("generated/*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [r for r in group["rules"] if r.get("alert") in EXPECTED]
    return found


def render(template: str, labels: dict[str, str]) -> str:
    """Alertmanager's view of an annotation: labels filled in, ``$value`` as a plain number."""
    text = re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)
    return re.sub(r"\{\{[^}]*\$value[^}]*\}\}", "0.35", text)


def test_the_rules_still_define_most_of_these_alerts() -> None:
    assert len({r["alert"] for r in rule_alerts()}) >= len(EXPECTED) * 3 // 4


@pytest.mark.parametrize("rule", rule_alerts(), ids=lambda r: r["alert"])
@pytest.mark.parametrize("kb", BACKENDS, indirect=True)
def test_rule_alert_category(kb: KnowledgeBase, rule: dict) -> None:
    labels = {
        "service": "rag-api",
        "alertname": rule["alert"],
        **{k: str(v) for k, v in rule.get("labels", {}).items()},
    }
    notes = {k: render(v, labels) for k, v in rule.get("annotations", {}).items()}
    note = Notification.model_validate(payload([{"labels": labels, "annotations": notes}]))
    result = asyncio.run(IncidentAnalyst(kb, registry=CollectorRegistry()).first("r", note))
    assert result.category == EXPECTED[rule["alert"]], result.references
