"""Pydantic models for what crosses the service's edge: the Alertmanager v4 webhook payload and the
API's answers.

Alertmanager 0.25 sends ``version: "4"``. Firing alerts carry a *future* ``endsAt`` (or
``0001-01-01T00:00:00Z``), so firing/resolved is read from ``status``, never from ``endsAt``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from alert_webhooks.analysis.result import AnalysisResult

Status = Literal["firing", "resolved"]


class _Edge(BaseModel):
    # Unknown keys are tolerated (newer Alertmanagers add fields) but every documented key is typed.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Alert(_Edge):
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    # Aware only: Alertmanager always sends RFC 3339 with an offset, and a naive time could not be
    # ordered against the others.
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "unknown")


class Notification(_Edge):
    """One webhook POST: one alert group at one moment."""

    version: Literal["4"]
    groupKey: str = Field(min_length=1)
    truncatedAlerts: int = 0
    status: Status
    receiver: str
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert] = Field(min_length=1)


# --- API models (what the service answers) -------------------------------------------------------


class IntakeResponse(BaseModel):
    status: Literal["accepted", "duplicate"]
    incident_id: str | None = None


class DeliveryOut(BaseModel):
    sink: str
    ref: str | None
    revision: int
    status: str | None
    up_to_date: bool


class IncidentOut(BaseModel):
    id: str
    group_key: str
    status: Status
    severity: str
    alertname: str
    service: str
    starts_at: datetime
    ends_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime
    summary: str
    alerts: int
    #: every sink shows the current revision
    delivered: bool
    deliveries: list[DeliveryOut]
    analysis: AnalysisResult | None = None


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int
