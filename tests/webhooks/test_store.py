"""The store contract, run against SQLite and against a real redis-server."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from alert_webhooks.incidents import IDLE_AFTER, DeliveryState
from alert_webhooks.redis_store import RedisStore
from alert_webhooks.schemas import Notification
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.store import IncidentFilter, StaleClaim, Store
from llm_sre.processes import wait_until
from tests.webhooks.conftest import notification

NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.e2e)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        made: Store = SqliteStore(tmp_path / "webhook.db")
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisStore(redis.Redis.from_url(url), prefix=f"t-{uuid.uuid4().hex[:8]}")
    yield made
    made.close()


def n(**kw: object) -> Notification:
    return Notification.model_validate(notification(**kw))  # type: ignore[arg-type]


def test_duplicates_are_detected_and_updates_coalesce_into_one_job(store: Store) -> None:
    first = store.ingest(n(), NOW)
    assert first.outcome == "accepted" and first.opened
    assert store.ingest(n(), NOW + 1).outcome == "duplicate"
    grown = store.ingest(n(alerts=2), NOW + 2)
    assert grown.outcome == "accepted" and not grown.opened and grown.incident_id == first.incident_id
    incident = store.incident(first.incident_id)
    assert incident is not None and incident.revision == 2 and len(incident.notification.alerts) == 2
    jobs = store.claim("a", 10, NOW + 3, 60)
    assert [j.incident_id for j in jobs] == [first.incident_id]
    assert store.stats(NOW + 3).depth == 1


def test_a_job_updated_while_claimed_runs_again(store: Store) -> None:
    incident_id = store.ingest(n(), NOW).incident_id
    (job,) = store.claim("a", 10, NOW, 60)
    assert store.claim("b", 10, NOW, 60) == []  # one worker per incident at a time
    store.ingest(n(status="resolved"), NOW + 1)
    store.complete(job, NOW + 2)
    (again,) = store.claim("a", 10, NOW + 2, 60)
    assert again.incident_id == incident_id
    store.complete(again, NOW + 3)
    assert store.claim("a", 10, NOW + 3, 60) == []
    assert store.stats(NOW + 3).depth == 0


def test_retry_waits_until_due_and_dead_letters_replay(store: Store) -> None:
    incident_id = store.ingest(n(), NOW).incident_id
    (job,) = store.claim("a", 1, NOW, 60)
    store.retry(job, NOW + 30, "slack: HTTP 500")
    assert store.claim("a", 1, NOW + 10, 60) == []
    (job,) = store.claim("a", 1, NOW + 31, 60)
    assert job.attempts == 1
    store.dead_letter(job, "slack: HTTP 500", NOW + 32, "server_error")
    assert [d.incident_id for d in store.dead_letters()] == [incident_id]
    assert store.stats(NOW + 32).dead_letters == 1 and store.claim("a", 1, NOW + 99, 60) == []
    assert store.replay_dead_letters(None, NOW + 40) == 1
    (job,) = store.claim("a", 1, NOW + 40, 60)
    store.complete(job, NOW + 41)
    assert store.stats(NOW + 41).dead_letters == 0


def test_critical_is_claimed_before_warning(store: Store) -> None:
    store.ingest(n(group="w", severity="warning"), NOW)
    critical = store.ingest(n(group="c", severity="critical"), NOW + 1).incident_id
    (job,) = store.claim("a", 1, NOW + 2, 60)
    assert job.incident_id == critical


def test_a_crashed_workers_claim_is_taken_over(store: Store) -> None:
    incident_id = store.ingest(n(), NOW).incident_id
    store.claim("crashed", 1, NOW, 0.05)
    if isinstance(store, SqliteStore):
        store.recover()  # the restarted process releases its predecessor's leases
        assert [j.incident_id for j in store.claim("b", 1, NOW, 60)] == [incident_id]
    else:  # another worker reclaims the pending entry once it has idled past the lease
        wait_until(lambda: [j.incident_id for j in store.claim("b", 1, NOW, 0.05)] == [incident_id], 5)


def test_incidents_filter_page_and_carry_deliveries(store: Store) -> None:
    ids = [
        store.ingest(n(group=f"g{i}", severity="warning" if i % 2 else "critical"), NOW + i).incident_id
        for i in range(5)
    ]
    store.save_delivery(ids[0], "slack", DeliveryState("webhook", 1, "firing"))
    page, total = store.incidents(IncidentFilter(), limit=2, offset=0)
    assert total == 5 and [i.id for i in page] == [ids[4], ids[3]]
    warnings, total = store.incidents(IncidentFilter(severity="warning"), limit=10, offset=0)
    assert total == 2 and {i.id for i in warnings} == {ids[1], ids[3]}
    one = store.incident(ids[0])
    assert one is not None and one.deliveries["slack"] == DeliveryState("webhook", 1, "firing")
    assert store.incident("nope") is None


def test_firing_again_after_resolution_opens_a_new_incident(store: Store) -> None:
    first = store.ingest(n(), NOW).incident_id
    store.ingest(n(status="resolved"), NOW + 1)
    again = store.ingest(n(starts="2026-11-26T12:00:00Z"), NOW + 3)
    assert again.opened and again.incident_id != first
    old = store.incident(first)
    assert old is not None and old.status == "resolved"


def test_a_group_whose_resolve_never_came_fires_again_as_a_new_incident(store: Store) -> None:
    stuck = store.ingest(n(), NOW).incident_id  # fp0 firing; its resolve is lost
    assert store.ingest(n(alerts=2), NOW + 60).incident_id == stuck  # fp1 joins while fp0 fires
    body = notification(alerts=3, starts="2026-11-27T09:00:00Z")
    body["alerts"] = body["alerts"][2:]  # a day later only fp2 fires: Alertmanager forgot fp0, fp1
    again = store.ingest(Notification.model_validate(body), NOW + 60 + IDLE_AFTER + 1)
    assert again.opened and again.incident_id != stuck
    old = store.incident(stuck)
    assert old is not None and old.status == "resolved" and set(old.muted) == {"g1-fp0", "g1-fp1"}
    # Both are queued: the old one's Slack message and annotation must say it is over.
    claimed = {job.incident_id for job in store.claim("w", 10, NOW + 60 + IDLE_AFTER + 2, lease=30)}
    assert claimed == {stuck, again.incident_id}
    firing, total = store.incidents(IncidentFilter(status="firing"), limit=10, offset=0)
    assert total == 1 and [i.id for i in firing] == [again.incident_id]


def test_reprocess_bumps_the_revision(store: Store) -> None:
    result = store.ingest(n(), NOW)
    assert result.notification_id is not None
    again = store.reprocess(result.notification_id, NOW + 1)
    incident = store.incident(again.incident_id or "")
    assert again.incident_id == result.incident_id and incident is not None and incident.revision == 2
    with pytest.raises(KeyError):
        store.reprocess(10_000, NOW)


def test_a_store_file_of_another_schema_version_is_refused_clearly(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "webhook.db")
    old.execute("CREATE TABLE incidents(id TEXT)")
    old.close()
    with pytest.raises(RuntimeError, match="store schema 0"):
        SqliteStore(tmp_path / "webhook.db")


def test_prune_forgets_old_resolved_history_but_not_open_or_pending_work(store: Store) -> None:
    done = store.ingest(n(group="old"), NOW).incident_id
    store.ingest(n(group="old", status="resolved"), NOW + 1)
    for job in store.claim("a", 10, NOW + 1, 60):
        store.complete(job, NOW + 1)
    still_open = store.ingest(n(group="open"), NOW + 2).incident_id
    store.prune(NOW + 1000)
    assert store.incident(done) is None  # resolved, delivered, old: gone
    assert store.incident(still_open) is not None  # firing and queued: kept
    if isinstance(store, SqliteStore):  # Redis lets archived notifications expire by TTL instead
        with pytest.raises(KeyError):
            store.reprocess(1, NOW + 1000)


def test_dead_letters_keep_their_cause_and_count_by_cause(store: Store) -> None:
    first = store.ingest(n(group="a"), NOW).incident_id
    second = store.ingest(n(group="b"), NOW).incident_id
    jobs = {j.incident_id: j for j in store.claim("a", 10, NOW, 60)}
    store.dead_letter(jobs[first], "grafana: ValueError: bad panel id", NOW + 1, "local_bug")
    store.dead_letter(jobs[second], "slack post: HTTP 429", NOW + 2, "rate_limited")
    assert [(d.incident_id, d.cause) for d in store.dead_letters()] == [
        (first, "local_bug"),
        (second, "rate_limited"),
    ]
    stats = store.stats(NOW + 3)
    assert stats.dead_letters == 2 and stats.dead_by_cause == {"local_bug": 1, "rate_limited": 1}


def test_filters_page_through_the_index_and_follow_status_changes(store: Store) -> None:
    for g in range(6):
        store.ingest(n(group=f"f{g}", severity="warning" if g % 2 else "critical"), NOW + g)
    store.ingest(n(group="f0", status="resolved"), NOW + 10)
    page, total = store.incidents(IncidentFilter(severity="critical"), 2, 1)
    assert total == 3 and [i.service for i in page] == ["svc-f2", "svc-f0"]
    firing, total = store.incidents(IncidentFilter(status="firing", severity="critical"), 10, 0)
    assert total == 2 and {i.service for i in firing} == {"svc-f2", "svc-f4"}
    resolved, total = store.incidents(IncidentFilter(status="resolved"), 10, 0)
    assert total == 1 and resolved[0].service == "svc-f0"


def test_a_holder_whose_lease_lapsed_can_neither_save_nor_ack(store: Store) -> None:
    incident_id = store.ingest(n(), NOW).incident_id
    [stale] = store.claim("stalled", 1, NOW, 0.05)
    if isinstance(store, SqliteStore):  # the lease ran out on the clock the store is given
        [current] = store.claim("b", 1, NOW + 1, 60)
    else:  # another worker reclaims the pending entry once it has idled past the lease
        current = wait_until(lambda: store.claim("b", 1, NOW, 0.05), 5)[0]
    pending = DeliveryState("webhook:pending", 0, None)
    with pytest.raises(StaleClaim):
        store.save_delivery(incident_id, "slack", pending, stale)
    assert store.incident(incident_id).deliveries == {}  # type: ignore[union-attr]
    store.complete(stale, NOW)  # ignored: the job is not the stale holder's to ack
    assert store.stats(NOW).depth == 1
    store.save_delivery(incident_id, "slack", pending, current)
    store.complete(current, NOW)
    assert store.stats(NOW).depth == 0
