"""Pure incident rules: dedup keys, which incident a notification belongs to, merging alerts."""

from __future__ import annotations

from alert_webhooks.incidents import (
    IDLE_AFTER,
    MAX_ALERTS,
    abandoned,
    belongs_to,
    close_abandoned,
    dedup_key,
    dump_incident,
    load_incident,
    open_incident,
    update_incident,
)
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


def _muted_resolve() -> Notification:
    """The group resolved by Alertmanager with fp0 left out (silenced or inhibited): only fp1 sent."""
    body = notification(status="resolved", alerts=2)
    body["alerts"] = body["alerts"][1:]
    return Notification.model_validate(body)


def test_the_group_status_closes_alerts_alertmanager_left_out() -> None:
    incident = open_incident("i1", n(alerts=2), 1.0)
    done = update_incident(incident, _muted_resolve(), 2.0)
    assert done.status == "resolved" and done.ends_at is not None
    assert done.muted == ("g1-fp0",)
    assert {a.status for a in done.notification.alerts} == {"resolved"}


def test_a_muted_alert_firing_again_is_a_new_incident_but_a_stale_copy_is_not() -> None:
    done = update_incident(open_incident("i1", n(alerts=2), 1.0), _muted_resolve(), 2.0)
    unmuted = notification(alerts=2)
    unmuted["alerts"] = unmuted["alerts"][:1]  # fp0, same startsAt: the silence expired
    assert not belongs_to(done, Notification.model_validate(unmuted))
    stale = notification(alerts=2)
    stale["alerts"] = stale["alerts"][1:]  # fp1 was resolved by Alertmanager itself
    assert belongs_to(done, Notification.model_validate(stale))


def test_alerts_kept_per_incident_are_capped_and_counted() -> None:
    big = n(alerts=MAX_ALERTS + 100)
    incident = open_incident("i1", big, 1.0)
    assert len(incident.notification.alerts) == MAX_ALERTS
    assert incident.alerts_dropped == 100 and incident.notification.truncatedAlerts == 100
    more = notification(alerts=MAX_ALERTS + 150)
    grown = update_incident(incident, Notification.model_validate(more), 2.0)
    assert len(grown.notification.alerts) == MAX_ALERTS
    assert grown.alerts_dropped == 150  # the 50 new ones pushed 50 more out
    assert load_incident(dump_incident(grown)) == grown


def only_new_alert(starts: str = "2026-11-27T09:00:00Z") -> Notification:
    """The group firing with fp1 only, a day later: fp0 is gone from Alertmanager's view of it."""
    body = notification(alerts=2, starts=starts)
    body["alerts"] = body["alerts"][1:]
    return Notification.model_validate(body)


def test_a_group_whose_resolve_never_came_opens_a_new_incident_when_it_fires_again() -> None:
    stuck = open_incident("i1", n(), 1.0)  # fp0 firing; its resolve was lost
    later = 1.0 + IDLE_AFTER + 1
    assert abandoned(stuck, only_new_alert(), later)
    closed = close_abandoned(stuck, later)
    assert closed.status == "resolved" and closed.revision == 2 and closed.updated_at == later
    assert closed.muted == ("g1-fp0",)
    assert not belongs_to(closed, only_new_alert())  # so the store opens a new incident
    # fp0 back with its old startsAt means Alertmanager still had it (muted): like an alert muted at
    # a group resolve, it is firing again, so it opens an incident too. (An exact re-sent copy of
    # an earlier notification never gets here: the dedup key stops it.)
    assert not belongs_to(closed, n())


def test_a_busy_or_quiet_but_continuing_group_is_not_abandoned() -> None:
    firing = open_incident("i1", n(), 1.0)
    later = 1.0 + IDLE_AFTER + 1
    assert not abandoned(firing, only_new_alert(), 1.0 + IDLE_AFTER - 1)  # not quiet long enough
    assert not abandoned(firing, n(alerts=2), later)  # fp0 still in the group: fp1 joins it
    assert not abandoned(firing, n(), later)  # a repeat of what it has
    done = update_incident(firing, n(status="resolved"), 2.0)
    assert not abandoned(done, only_new_alert(), later)  # resolved groups follow belongs_to
