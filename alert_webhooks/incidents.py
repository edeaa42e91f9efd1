"""Incidents and their pure rules: dedup keys, which incident a notification belongs to, merging.

Both stores (SQLite and Redis) call these functions inside their own transaction, so the rules that
decide "duplicate / update / new incident" live in one place and are tested without any I/O.

Alertmanager re-sends a notification after a timeout and re-notifies an unchanged group every
``repeat_interval``; both carry the same ``(groupKey, fingerprint, startsAt, status)`` set
(REFERENCE §1), so that set is the dedup key. A group's *new* alerts change the set and update the
open incident; only a firing alert the group's latest incident has never seen opens a new one.

Two ways a group "fires again" while its incident still looks open: Alertmanager resolved it but
left muted alerts out (the group status says resolved, :func:`update_incident` closes them), or the
resolve never reached us (service down past Alertmanager's retries). The second shows as a firing
notification that shares no alert with the incident after a quiet spell — Alertmanager sends the
whole group every time, so alerts it leaves out are no longer active for it (:func:`abandoned`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.schemas import Alert, Notification
from alert_webhooks.trials import ShadowRun

Outcome = Literal["accepted", "duplicate", "rejected"]

# An incident keeps at most this many alerts (resolved ones leave first, then the oldest); the rest
# are counted in ``alerts_dropped`` and shown as truncated. Without a cap a long storm in one group
# made every fold re-serialise thousands of alerts (measured: 4,000 alerts, ack 20 → 120 ms).
MAX_ALERTS = 500

# A group that changed nothing for this long and then fires only alerts its incident never had is
# a new outage, not an update. Longer than Alertmanager's default group_interval (5 min) times
# three, so a group whose alerts are only briefly inhibited (a target restart) stays one incident.
IDLE_AFTER = 15 * 60

# Lower runs first: pages before tickets when the queue is long.
PRIORITY: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
DEFAULT_PRIORITY = 1


@dataclass(frozen=True)
class DeliveryState:
    """What one sink has of an incident: its handle there and the revision/status it shows."""

    ref: str | None = None
    revision: int = 0
    status: str | None = None


@dataclass(frozen=True)
class Incident:
    id: str
    group_key: str
    status: str
    severity: str
    alertname: str
    service: str
    starts_at: datetime
    ends_at: datetime | None
    revision: int
    notification: Notification
    created_at: float
    updated_at: float
    analysis: AnalysisResult | None = None
    deliveries: dict[str, DeliveryState] = field(default_factory=dict)
    #: fingerprints closed by the group's resolve while we still had them firing (silenced/inhibited)
    muted: tuple[str, ...] = ()
    #: alerts beyond ``MAX_ALERTS`` at the last fold (counted, not kept)
    alerts_dropped: int = 0
    #: on-call feedback on the summary: voter hash → choice (alert_webhooks/feedback.py)
    feedback: dict[str, str] = field(default_factory=dict)
    #: shadow mode: a second model's trial on this incident, never delivered (alert_webhooks/shadow.py)
    shadow: ShadowRun | None = None

    @property
    def priority(self) -> int:
        return priority_of(self.severity)


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    incident_id: str | None
    notification_id: int | None = None
    opened: bool = False  # a new incident (counted once, by severity)
    severity: str = ""


@dataclass(frozen=True)
class Job:
    """A claim on "bring every sink up to date with this incident"; one per incident at a time."""

    incident_id: str
    attempts: int
    token: str  # proves the claim is still ours when acking (leases can expire)


def priority_of(severity: str) -> int:
    return PRIORITY.get(severity, DEFAULT_PRIORITY)


def dedup_key(notification: Notification) -> str:
    parts = sorted(f"{a.fingerprint}|{a.startsAt.isoformat()}|{a.status}" for a in notification.alerts)
    digest = hashlib.sha256(notification.groupKey.encode())
    for part in parts:
        digest.update(b"\n" + part.encode())
    return digest.hexdigest()


def belongs_to(latest: Incident | None, notification: Notification) -> bool:
    """True when ``notification`` updates ``latest`` rather than opening a new incident."""
    if latest is None:
        return False
    if latest.status == "firing":
        return True
    muted = set(latest.muted)
    known = {(a.fingerprint, a.startsAt) for a in latest.notification.alerts if a.fingerprint not in muted}
    # A late resolve (or a stale firing copy) of alerts Alertmanager resolved is an update; a firing
    # alert with a new startsAt, or one that was only muted when the group resolved, is the group
    # firing again: a new incident.
    return all((a.fingerprint, a.startsAt) in known for a in notification.alerts if a.status == "firing")


def abandoned(latest: Incident, notification: Notification, now: float) -> bool:
    """True when ``latest`` is still firing only because its resolve never arrived: the group has
    been quiet past ``IDLE_AFTER`` and now fires alerts it never had while leaving out every alert
    the incident still counts as firing."""
    if latest.status != "firing" or now - latest.updated_at < IDLE_AFTER:
        return False
    firing = {(a.fingerprint, a.startsAt) for a in notification.alerts if a.status == "firing"}
    known = {(a.fingerprint, a.startsAt) for a in latest.notification.alerts}
    still_firing = {a.fingerprint for a in latest.notification.alerts if a.status == "firing"}
    sent = {a.fingerprint for a in notification.alerts}
    return bool(firing) and not firing & known and not still_firing & sent


def close_abandoned(incident: Incident, now: float) -> Incident:
    """``incident`` resolved because Alertmanager no longer has its alerts; like muted alerts at a
    group resolve they are recorded in ``muted`` (closed by the group, not by their own resolve)."""
    alerts = [
        a.model_copy(update={"status": "resolved"}) if a.status == "firing" else a
        for a in incident.notification.alerts
    ]
    muted = incident.muted + tuple(
        a.fingerprint for a in incident.notification.alerts if a.status == "firing"
    )
    closed = _derive(replace(incident, muted=muted), alerts)
    return replace(closed, revision=incident.revision + 1, updated_at=now)


def _newer(old: Alert, new: Alert) -> Alert:
    if new.startsAt != old.startsAt:
        return new if new.startsAt > old.startsAt else old
    # Same episode of the same alert: resolved is final, a delayed firing copy must not reopen it.
    return old if old.status == "resolved" else new


def merge_alerts(old: list[Alert], new: list[Alert]) -> list[Alert]:
    by_fp = {a.fingerprint: a for a in old}
    for alert in new:
        by_fp[alert.fingerprint] = (
            _newer(by_fp[alert.fingerprint], alert) if alert.fingerprint in by_fp else alert
        )
    return sorted(by_fp.values(), key=lambda a: (a.startsAt, a.fingerprint))


def severity_of(notification: Notification) -> str:
    return notification.commonLabels.get("severity") or notification.alerts[0].labels.get("severity", "none")


def _label(notification: Notification, name: str, default: str) -> str:
    return (
        notification.commonLabels.get(name)
        or notification.groupLabels.get(name)
        or (notification.alerts[0].labels.get(name, default))
    )


def open_incident(incident_id: str, notification: Notification, now: float) -> Incident:
    alerts, dropped = _cap(merge_alerts([], notification.alerts))
    notification = notification.model_copy(
        update={"alerts": alerts, "truncatedAlerts": notification.truncatedAlerts + dropped}
    )
    return _derive(
        Incident(
            id=incident_id,
            group_key=notification.groupKey,
            status=notification.status,
            severity=severity_of(notification),
            alertname=_label(notification, "alertname", "unknown"),
            service=_label(notification, "service", ""),
            starts_at=notification.alerts[0].startsAt,
            ends_at=None,
            revision=1,
            notification=notification,
            created_at=now,
            updated_at=now,
            alerts_dropped=dropped,
        ),
        alerts,
    )


def update_incident(incident: Incident, notification: Notification, now: float) -> Incident:
    """Fold a newer notification of the same group into ``incident`` (revision bumps only on change)."""
    alerts = merge_alerts(incident.notification.alerts, notification.alerts)
    sent = {a.fingerprint for a in notification.alerts}
    muted = tuple(fp for fp in incident.muted if fp not in sent)
    if notification.status == "resolved":
        alerts, closed = _close_omitted(alerts, sent, notification)
        muted += closed
    alerts, dropped = _cap(alerts)
    # Keep the latest envelope (labels, externalURL) but with every alert the incident has seen.
    envelope = notification.model_copy(
        update={"alerts": alerts, "truncatedAlerts": notification.truncatedAlerts + dropped}
    )
    updated = _derive(replace(incident, notification=envelope, muted=muted, alerts_dropped=dropped), alerts)
    same = updated.notification.alerts == incident.notification.alerts and dropped == incident.alerts_dropped
    if same and updated.status == incident.status:
        return incident
    # Severity only escalates within one incident: a warning joining a critical group stays critical.
    severity = min((incident.severity, severity_of(notification)), key=lambda s: PRIORITY.get(s, 9))
    return replace(updated, severity=severity, revision=incident.revision + 1, updated_at=now)


def _close_omitted(
    alerts: list[Alert], sent: set[str], notification: Notification
) -> tuple[list[Alert], tuple[str, ...]]:
    """Alertmanager says the group is resolved: alerts it left out (muted) are closed with it."""
    ends = max((a.endsAt for a in notification.alerts if a.endsAt), default=None)
    closed = tuple(a.fingerprint for a in alerts if a.status == "firing" and a.fingerprint not in sent)
    if not closed:
        return alerts, ()
    return [
        a.model_copy(update={"status": "resolved", "endsAt": ends}) if a.fingerprint in closed else a
        for a in alerts
    ], closed


def _cap(alerts: list[Alert]) -> tuple[list[Alert], int]:
    if len(alerts) <= MAX_ALERTS:
        return alerts, 0
    # Firing before resolved, newest first: what on-call needs to see survives the cut.
    keep = sorted(alerts, key=lambda a: (a.status != "firing", -a.startsAt.timestamp()))[:MAX_ALERTS]
    return sorted(keep, key=lambda a: (a.startsAt, a.fingerprint)), len(alerts) - MAX_ALERTS


def _derive(incident: Incident, alerts: list[Alert]) -> Incident:
    firing = [a for a in alerts if a.status == "firing"]
    status = "firing" if firing else "resolved"
    ends = max((a.endsAt for a in alerts if a.endsAt), default=None) if status == "resolved" else None
    envelope = incident.notification.model_copy(update={"alerts": alerts, "status": status})
    return replace(
        incident,
        status=status,
        starts_at=min(a.startsAt for a in alerts),
        ends_at=ends,
        notification=envelope,
    )


def with_vote(incident: Incident, voter: str, choice: str, now: float) -> Incident:
    """``incident`` with a voter's feedback (replacing theirs) as a new revision, so sinks update."""
    votes = {**incident.feedback, voter: choice}
    return replace(incident, feedback=votes, revision=incident.revision + 1, updated_at=now)


def dump_incident(incident: Incident) -> str:
    """JSON for stores that keep an incident as one value (Redis); deliveries are stored apart."""
    return json.dumps(
        {
            "id": incident.id,
            "group_key": incident.group_key,
            "status": incident.status,
            "severity": incident.severity,
            "alertname": incident.alertname,
            "service": incident.service,
            "starts_at": incident.starts_at.isoformat(),
            "ends_at": incident.ends_at.isoformat() if incident.ends_at else None,
            "revision": incident.revision,
            "notification": incident.notification.model_dump(mode="json"),
            "analysis": incident.analysis.model_dump(mode="json") if incident.analysis else None,
            "created_at": incident.created_at,
            "updated_at": incident.updated_at,
            "muted": list(incident.muted),
            "alerts_dropped": incident.alerts_dropped,
            "feedback": incident.feedback,
            "shadow": incident.shadow.model_dump(mode="json") if incident.shadow else None,
        }
    )


def load_incident(text: str | bytes) -> Incident:
    data = json.loads(text)
    return Incident(
        **{
            **data,
            "starts_at": datetime.fromisoformat(data["starts_at"]),
            "ends_at": datetime.fromisoformat(data["ends_at"]) if data["ends_at"] else None,
            "notification": Notification.model_validate(data["notification"]),
            "analysis": AnalysisResult.model_validate(data["analysis"]) if data["analysis"] else None,
            "muted": tuple(data.get("muted", ())),  # rows written before muting was tracked have none
            "shadow": ShadowRun.model_validate(data["shadow"]) if data.get("shadow") else None,
        }
    )
