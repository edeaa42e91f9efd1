"""Pure incident rules: dedup keys, which incident a notification belongs to, merging alerts."""

from __future__ import annotations

from alert_webhooks.incidents import belongs_to, dedup_key, open_incident, update_incident
from alert_webhooks.schemas import Notification
from tests.webhooks.conftest import notification


def n(**kw: object) -> Notification:
    return Notification.model_validate(notification(**kw))  # type: ignore[arg-type]


def test_dedup_key_ignores_alert_order_and_envelope_but_not_status() -> None:
    body = notification(alerts=2)
    swapped = {**body, "alerts": body["alerts"][::-1], "commonAnnotations": {"summary": "changed"}}
    assert dedup_key(Notification.model_validate(body)) == dedup_key(Notification.model_validate(swapped))
    assert dedup_key(n()) != dedup_key(n(status="resolved"))
    assert dedup_key(n()) != dedup_key(n(group="other"))


def test_a_delayed_firing_copy_never_reopens_a_resolved_alert() -> None:
    incident = open_incident("i1", n(), 1.0)
    done = update_incident(incident, n(status="resolved"), 2.0)
    assert done.status == "resolved" and done.revision == 2 and done.ends_at is not None
    stale = n()  # the old firing notification, re-sent late
    assert belongs_to(done, stale)
    assert update_incident(done, stale, 3.0) is done  # nothing changed: no revision, no delivery


def test_a_new_episode_or_new_alert_after_resolution_is_not_the_old_incident() -> None:
    done = update_incident(open_incident("i1", n(), 1.0), n(status="resolved"), 2.0)
    assert not belongs_to(done, n(starts="2026-11-26T12:00:00Z"))
    assert not belongs_to(done, n(alerts=2))  # fp1 was never part of the resolved incident
    assert not belongs_to(None, n())


def test_severity_only_escalates_within_an_incident() -> None:
    incident = open_incident("i1", n(severity="critical"), 1.0)
    assert update_incident(incident, n(severity="warning", alerts=2), 2.0).severity == "critical"
    warning = open_incident("i2", n(severity="warning"), 1.0)
    assert update_incident(warning, n(severity="critical", alerts=2), 2.0).severity == "critical"
