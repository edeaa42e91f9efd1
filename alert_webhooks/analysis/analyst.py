"""The analyst contract the worker calls, and the walking-skeleton deterministic analyst.

Two phases: ``first`` is deterministic and always succeeds (it is what goes out at once);
``refine`` may return a better, grounded LLM answer later, or ``None`` to keep the first.
"""

from __future__ import annotations

from typing import Protocol

from alert_webhooks.analysis.result import AnalysisResult, Evidence, Grounding
from alert_webhooks.schemas import Notification
from exporters.redact import redact


class Analyst(Protocol):
    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult: ...

    async def refine(
        self, incident_id: str, notification: Notification, first: AnalysisResult
    ) -> AnalysisResult | None: ...


def _severity(notification: Notification) -> str:
    sev = notification.commonLabels.get("severity") or notification.alerts[0].labels.get("severity", "")
    return sev if sev in ("critical", "warning", "info") else "warning"


class DeterministicAnalyst:
    """Summarise an alert group from its own labels and annotations, citing each as evidence."""

    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult:
        evidence: list[Evidence] = []
        for alert in notification.alerts:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
            notes = "; ".join(f"{k}: {v}" for k, v in sorted(alert.annotations.items()))
            evidence.append(
                Evidence(
                    id=f"E{len(evidence) + 1}",
                    source="alert",
                    text=redact(f"{alert.status} since {alert.startsAt.isoformat()} {labels} {notes}".strip()),
                )
            )
        lead = notification.alerts[0]
        headline = lead.annotations.get("summary") or lead.name
        summary = redact(f"{lead.name}: {headline} ({len(notification.alerts)} alert(s), {notification.status}) [E1]")
        return AnalysisResult(
            incident_id=incident_id,
            severity=_severity(notification),  # type: ignore[arg-type]
            category="llm",
            summary=summary,
            root_cause_analysis=redact(lead.annotations.get("description", headline)) + " [E1]",
            confidence_score=0.5,
            evidence=evidence,
            grounding=Grounding(grounded_ratio=1.0, dropped_sentences=0, backend="deterministic"),
        )

    async def refine(
        self, incident_id: str, notification: Notification, first: AnalysisResult
    ) -> AnalysisResult | None:
        return None
