"""The analyst's input: one incident, whether it came from Alertmanager, the API or the CLI.

An Alertmanager notification and a ``POST /api/v1/analyze`` body are different shapes; both
become a :class:`Case` so the same evidence gathering and analysis run for the worker, the API
and ``llm-sre analyze``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from alert_webhooks.analysis.facts import redis_fields
from alert_webhooks.schemas import Notification
from alert_webhooks.wire import STRICT, Timestamp

Scalar = str | int | float | bool

MANUAL = "ManualIncident"  # the alert name of an incident sent to the API without one

# Labels that name *what* is affected, in the order we prefer them for Loki and PromQL selectors.
TARGET_LABELS = (
    "service",
    "compose_service",
    "name",
    "job",
    "instance",
    "pod",
    "container",
    "model",
    "cache",
)


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive timestamp (an API client's "2026-11-26T23:10:00") is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class AlertFacts:
    name: str
    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    generator_url: str = ""


@dataclass(frozen=True)
class Case:
    alerts: tuple[AlertFacts, ...]
    at: datetime  # when the incident started: the evidence window is centred here
    severity: Literal["critical", "warning", "info"] = "warning"
    logs: tuple[str, ...] = ()
    metrics: Mapping[str, Scalar] = field(default_factory=dict)
    description: str = ""

    @property
    def lead(self) -> AlertFacts:
        return self.alerts[0]

    def target(self) -> tuple[str, str] | None:
        """The most specific label naming the affected thing, e.g. ``("service", "rag-api")``."""
        for key in TARGET_LABELS:
            if value := self.lead.labels.get(key):
                return key, value
        return None

    @classmethod
    def from_notification(
        cls,
        notification: Notification,
        logs: tuple[str, ...] = (),
        metrics: Mapping[str, Scalar] | None = None,
    ) -> Case:
        alerts = tuple(
            AlertFacts(a.name, a.status, dict(a.labels), dict(a.annotations), utc(a.startsAt), a.generatorURL)
            for a in notification.alerts
        )
        firing = [a.starts_at for a in alerts if a.status == "firing"] or [a.starts_at for a in alerts]
        sev = notification.commonLabels.get("severity") or alerts[0].labels.get("severity", "")
        return cls(
            alerts=alerts,
            at=min(firing),
            severity=sev if sev in ("critical", "warning", "info") else "warning",  # type: ignore[arg-type]
            logs=logs,
            metrics=dict(metrics or {}),
        )


def parse_redis_info(text: str) -> dict[str, str]:
    """``INFO`` output (``key:value`` lines under ``# Section`` headers) as a flat dict.

    redis-py parses INFO only from a live connection; an incident report carries it as text.
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key and not key.startswith("#"):
            out[key] = value
    return out


class IncidentInput(BaseModel):
    """The body of ``POST /api/v1/analyze``: an incident described by hand or by another tool."""

    model_config = STRICT

    timestamp: Timestamp | None = None
    error_logs: list[str] = Field(default_factory=list, max_length=5000)
    metrics: dict[str, Scalar] = Field(default_factory=dict)
    redis_info: dict[str, Scalar] | str | None = None
    redis_version: str | None = None
    deployment_type: Literal["standalone", "sentinel", "cluster", "replication"] | None = None
    description: str = Field("", max_length=4000)
    alertname: str = MANUAL
    labels: dict[str, str] = Field(default_factory=dict)
    severity: Literal["critical", "warning", "info"] = "warning"

    def to_case(self, now: datetime | None = None) -> Case:
        at = utc(self.timestamp or now or datetime.now(UTC))
        info = parse_redis_info(self.redis_info) if isinstance(self.redis_info, str) else self.redis_info
        metrics: dict[str, Scalar] = {**redis_fields(info or {}), **self.metrics}
        if self.redis_version:
            metrics.setdefault("redis_version", self.redis_version)
        labels = {"alertname": self.alertname, "severity": self.severity, **self.labels}
        if self.deployment_type:
            labels.setdefault("deployment_type", self.deployment_type)
        notes = {"description": self.description} if self.description else {}
        alert = AlertFacts(self.alertname, "firing", labels, notes, at)
        return Case((alert,), at, self.severity, tuple(self.error_logs), metrics, self.description)
