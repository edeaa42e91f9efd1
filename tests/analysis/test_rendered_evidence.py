"""What on-call reads: Slack and Grafana show the cited evidence itself — the log line as it was
logged, with source, count and level — escaped by each sink, never only its ids."""

from __future__ import annotations

import asyncio
import html
from dataclasses import replace

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.delivery.grafana import annotation_text
from alert_webhooks.delivery.render import QUOTES, view
from alert_webhooks.delivery.slack import message
from alert_webhooks.incidents import Incident, open_incident
from tests.analysis.payloads import load_case
from tests.analysis.test_scenarios import MENTIONS

OOM_LINE = "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'."


def analysed(kb: KnowledgeBase, name: str, extra_logs: tuple[str, ...] = ()) -> Incident:
    notification, data = load_case(name)
    analyst = IncidentAnalyst(kb, registry=CollectorRegistry())
    analysis = asyncio.run(
        analyst.first(
            "i1", notification, logs=[*data["logs"], *extra_logs], extra_metrics=data.get("metrics")
        )
    )
    return replace(open_incident("i1", notification, 1.0), analysis=analysis)


def test_the_api_keeps_the_line_verbatim_and_the_sinks_escape_it(kb: KnowledgeBase) -> None:
    incident = analysed(kb, "memory-redis-oom")
    assert incident.analysis is not None
    (oom,) = [e for e in incident.analysis.evidence if e.text == OOM_LINE]
    assert (oom.count, oom.level) == (3, "critical")

    slack = str(message(incident))
    assert f"{oom.id} logs (3x critical): {OOM_LINE.replace('>', '&gt;')}" in slack
    grafana = annotation_text(incident)
    assert f"- {oom.id} logs (3x critical): {html.escape(OOM_LINE, quote=False)}" in grafana
    assert "Sup3rS3cretPw" not in slack + grafana


def test_only_a_few_cited_lines_are_shown_and_never_the_alert_or_runbook(kb: KnowledgeBase) -> None:
    quotes = view(analysed(kb, "persistence-rdb-save")).evidence
    assert 1 <= len(quotes) <= QUOTES
    assert not [q for q in quotes if q.source.startswith(("alert", "runbook"))]


def test_a_mention_quoted_from_a_log_line_is_shown_not_acted_on(kb: KnowledgeBase) -> None:
    mention = "ERROR webhook relay failed for <!channel> <@U024BE7LH> <https://evil.example|docs> & co"
    incident = analysed(kb, "memory-redis-oom", (mention,) * 5)
    assert incident.analysis is not None
    assert any(e.text == mention for e in incident.analysis.evidence)  # verbatim in the API
    body = message(incident)
    assert "&lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example|docs&gt; &amp; co" in str(body)
    assert not MENTIONS.search(str(body)) and "<https://evil" not in str(body)
    assert "<script" not in annotation_text(
        replace(
            incident, analysis=incident.analysis.model_copy(update={"summary": "<script>x</script> [E1]."})
        )
    )
