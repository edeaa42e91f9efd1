"""What every sink says about an incident, before sink-specific formatting.

All text that came from outside (labels, annotations, LLM output) is masked here, once, so no sink can
forget it; sinks only add their own escaping (Slack mrkdwn) and size limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.incidents import Incident
from exporters.redact import redact

#: labels/annotations that point an incident's annotation at a dashboard panel
DASHBOARD_UID_KEY = "grafana_dashboard_uid"
PANEL_ID_KEY = "grafana_panel_id"
TAG_MAX = 100


@dataclass(frozen=True)
class View:
    title: str
    status: str
    severity: str
    service: str
    alert_count: int
    truncated: int  # alerts Alertmanager left out (webhook ``max_alerts``)
    summary: str
    root_cause: str
    actions: list[str]
    evidence_ids: list[str]
    links: list[tuple[str, str]]


def view(incident: Incident, grafana_url: str | None = None) -> View:
    analysis = incident.analysis
    return View(
        title=redact(incident.alertname),
        status=incident.status,
        severity=redact(incident.severity),
        service=redact(incident.service),
        alert_count=len(incident.notification.alerts),
        truncated=incident.notification.truncatedAlerts,
        summary=redact(analysis.summary if analysis else _fallback_summary(incident)),
        root_cause=redact(analysis.root_cause_analysis) if analysis else "",
        actions=[redact(a) for a in analysis.immediate_actions] if analysis else [],
        evidence_ids=_evidence_ids(analysis),
        links=links(incident, grafana_url),
    )


def alert_count_text(v: View) -> str:
    return f"{v.alert_count} (+{v.truncated} truncated)" if v.truncated else str(v.alert_count)


def _fallback_summary(incident: Incident) -> str:
    lead = incident.notification.alerts[0]
    return lead.annotations.get("summary") or lead.annotations.get("description") or incident.alertname


def _evidence_ids(analysis: AnalysisResult | None) -> list[str]:
    return [e.id for e in analysis.evidence] if analysis else []


def links(incident: Incident, grafana_url: str | None) -> list[tuple[str, str]]:
    """Links for humans; only http(s) URLs survive, so a label cannot smuggle a ``javascript:`` link."""
    found: list[tuple[str, str]] = []
    uid = dashboard_uid(incident)
    if grafana_url:
        base = grafana_url.rstrip("/")
        found.append(("Grafana", f"{base}/d/{quote(uid)}" if uid else f"{base}/dashboards"))
    generator = incident.notification.alerts[0].generatorURL
    if generator:
        found.append(("Prometheus", generator))
    if incident.notification.externalURL:
        found.append(("Alertmanager", incident.notification.externalURL.rstrip("/") + "/#/alerts"))
    return [(name, url) for name, url in found if url.startswith(("http://", "https://"))]


def _lookup(incident: Incident, key: str) -> str | None:
    n = incident.notification
    return (
        n.commonLabels.get(key)
        or n.commonAnnotations.get(key)
        or n.alerts[0].labels.get(key)
        or (n.alerts[0].annotations.get(key))
    )


def dashboard_uid(incident: Incident) -> str | None:
    return _lookup(incident, DASHBOARD_UID_KEY)


def panel_id(incident: Incident) -> int | None:
    value = _lookup(incident, PANEL_ID_KEY)
    return int(value) if value and value.isdigit() else None


def tags(incident: Incident) -> list[str]:
    """Grafana tags: alert name, severity, service, ``llm-sre`` and the incident id (the crash-safe
    lookup key that keeps one annotation per incident)."""
    values = [incident.alertname, incident.severity, incident.service, "llm-sre", incident_tag(incident.id)]
    # Grafana stores a tag in a VARCHAR(100); a longer label value would fail the whole annotation.
    return list(dict.fromkeys(redact(v)[:TAG_MAX] for v in values if v))


def incident_tag(incident_id: str) -> str:
    return f"llm-sre-incident-{incident_id}"
