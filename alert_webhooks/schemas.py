"""Pydantic models for what crosses the service's edge: the Alertmanager v4 webhook payload and the
API's answers.

Alertmanager 0.25 sends ``version: "4"``. Firing alerts carry a *future* ``endsAt`` (or
``0001-01-01T00:00:00Z``), so firing/resolved is read from ``status``, never from ``endsAt``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.wire import AwareTimestamp

Status = Literal["firing", "resolved"]


class _Edge(BaseModel):
    # Unknown keys are tolerated (newer Alertmanagers add fields) but every documented key is typed,
    # strictly: the published schema is what is accepted (see alert_webhooks.wire).
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


def _in_utc_range(value: datetime) -> datetime:
    # ``0001-01-01T00:00:00+01:00`` parses but is before year 1 in UTC: every later comparison or
    # ``timestamp()`` raised OverflowError in the worker, so it is refused here with the field named.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range in UTC") from None
    return value


def _plausible_start(value: datetime) -> datetime:
    if not 1970 <= _in_utc_range(value).astimezone(UTC).year < 9000:
        raise ValueError("startsAt must be between 1970 and 9000")
    return value


class Alert(_Edge):
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    # Aware only: Alertmanager always sends RFC 3339 with an offset, and a naive time could not be
    # ordered against the others.
    startsAt: Annotated[AwareTimestamp, AfterValidator(_plausible_start)]
    # Firing alerts may carry Go's zero time (0001-01-01T00:00:00Z): allowed, but only in range.
    endsAt: Annotated[AwareTimestamp, AfterValidator(_in_utc_range)] | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "unknown")


class Notification(_Edge):
    """One webhook POST: one alert group at one moment."""

    version: Literal["4"]
    groupKey: str = Field(min_length=1)
    truncatedAlerts: int = Field(0, ge=0, le=1_000_000_000)
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
