"""What every sink says about an incident, before sink-specific formatting.

All text that came from outside (labels, annotations, LLM output) is masked here, once, so no sink can
forget it; sinks only add their own escaping (Slack mrkdwn, HTML for Grafana) and size limits.
Evidence is shown as the source wrote it (``used memory > 'maxmemory'``), so escaping is the sink's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from alert_webhooks.analysis.grounding import citations
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.incidents import Incident
from exporters.redact import redact

#: labels/annotations that point an incident's annotation at a dashboard panel
DASHBOARD_UID_KEY = "grafana_dashboard_uid"
PANEL_ID_KEY = "grafana_panel_id"
TAG_MAX = 100
QUOTES = 3  # cited evidence shown in a message: the few lines an engineer reads first
QUOTE_MAX = 300


@dataclass(frozen=True)
class Quote:
    """One piece of cited evidence as a message shows it: ``E3 logs (3x critical): <the line>``."""

    id: str
    source: str
    detail: str  # "3x critical" for a log pattern, else empty
    text: str


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
    evidence: list[Quote]
    links: list[tuple[str, str]]
    specialist: str = ""  # "Security analyst (why it was chosen): its reading", or empty


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
        evidence=cited_evidence(analysis) if analysis else [],
        links=links(incident, grafana_url),
        specialist=specialist_text(analysis) if analysis else "",
    )


def specialist_text(analysis: AnalysisResult) -> str:
    """Which specialist explained the alert, why routing chose it, and what it read (masked)."""
    s = analysis.specialist
    if s is None:
        return ""
    name = s.analyst.upper() if s.analyst == "sre" else s.analyst.capitalize()
    return redact(f"{name} analyst ({s.why}): {s.answer}")


def alert_count_text(v: View) -> str:
    return f"{v.alert_count} (+{v.truncated} truncated)" if v.truncated else str(v.alert_count)


def _fallback_summary(incident: Incident) -> str:
    lead = incident.notification.alerts[0]
    return lead.annotations.get("summary") or lead.annotations.get("description") or incident.alertname


def cited_evidence(analysis: AnalysisResult) -> list[Quote]:
    """The evidence the summary, the specialist and the root cause cite, in citation order, without
    the alert (the message already is the alert) and the runbook (the actions already quote it)."""
    by_id = {e.id: e for e in analysis.evidence}
    specialist = analysis.specialist.answer if analysis.specialist else ""
    text = f"{analysis.summary} {specialist} {analysis.root_cause_analysis}"
    cited = [by_id[i] for i in citations(text) if i in by_id]
    shown = [e for e in cited if not e.source.startswith(("alert", "runbook"))][:QUOTES]
    return [
        Quote(e.id, e.source, f"{e.count}x {e.level}" if e.level else "", clip(redact(e.text), QUOTE_MAX))
        for e in shown
    ]


def quote_line(q: Quote) -> str:
    """A quote as one plain line (before the sink's escaping)."""
    return f"{q.id} {q.source}{f' ({q.detail})' if q.detail else ''}: {q.text}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    # isascii: "²".isdigit() is True but int("²") raises, which once made a poison job.
    return int(value) if value and value.isascii() and value.isdigit() else None


def tags(incident: Incident) -> list[str]:
    """Grafana tags: alert name, severity, service, ``llm-sre`` and the incident id (the crash-safe
    lookup key that keeps one annotation per incident)."""
    values = [incident.alertname, incident.severity, incident.service, "llm-sre", incident_tag(incident.id)]
    # On-call's feedback (Slack buttons): every choice made, sorted so a PATCH always sends them all.
    values += [f"feedback:{choice}" for choice in sorted(set(incident.feedback.values()))]
    # Grafana stores a tag in a VARCHAR(100); a longer label value would fail the whole annotation.
    return list(dict.fromkeys(redact(v)[:TAG_MAX] for v in values if v))


def incident_tag(incident_id: str) -> str:
    return f"llm-sre-incident-{incident_id}"
