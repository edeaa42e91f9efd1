"""The hourly LLM budget shared in a real Redis: two budgets (two replicas) racing from threads never
spend more than the one limit together, see each other's reservations, and a dead replica's
reservation lapses. The clock is injected; Redis and its Lua scripts are the real ones."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import redis
from prometheus_client import CollectorRegistry
from redis.backoff import NoBackoff
from redis.retry import Retry

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.budget import Cost
from alert_webhooks.redis_budget import RedisBudget
from alert_webhooks.refinement import Refinement
from alert_webhooks.schemas import Notification
from alert_webhooks.service import shared_budget
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore
from tests.webhooks.conftest import notification
from tests.webhooks.test_budget import MeteredAnalyst, _drain

LIMIT_TOKENS, LIMIT_SECONDS = 10_000, 300.0
ONE = Cost(1_000, 10.0)  # a refinement's reservation: 10 fit in the tokens, 30 in the seconds


@pytest.fixture
def client(redis_url: str):
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    yield r
    r.close()


def budget(client: redis.Redis, now: list[float], **kw: float) -> RedisBudget:
    return RedisBudget(
        client, LIMIT_TOKENS, LIMIT_SECONDS, registry=CollectorRegistry(), clock=lambda: now[0], **kw
    )


def test_two_replicas_racing_never_spend_more_than_the_one_limit(client: redis.Redis) -> None:
    now = [1_790_000_000.0]
    replicas = [budget(client, now), budget(client, now)]
    granted: list[int] = [0, 0]
    lock, start = threading.Lock(), threading.Barrier(8)

    def worker(n: int) -> None:
        b = replicas[n % 2]
        start.wait()
        for _ in range(20):
            if b.reserve(ONE):
                with lock:
                    granted[n % 2] += 1
                b.settle(ONE, Cost(ONE.tokens, ONE.seconds / 2))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == LIMIT_TOKENS // ONE.tokens  # exactly what fits, however the race went
    assert granted[0] and granted[1]  # both replicas drew from the one budget
    for b in replicas:
        assert b.used() == Cost(LIMIT_TOKENS, sum(granted) * ONE.seconds / 2)
        assert not b.fits(Cost(1, 0))
    # The spend leaves the shared window an hour after it was settled, for both replicas.
    assert replicas[0].returns_in(ONE) == pytest.approx(3600)
    now[0] += 3600
    assert replicas[1].reserve(ONE) and replicas[0].used() == ONE


def test_a_reservation_is_seen_by_the_other_replica_and_a_dead_ones_lapses(client: redis.Redis) -> None:
    now = [1_790_000_000.0]
    a, b = budget(client, now, hold=120), budget(client, now, hold=120)
    assert a.reserve(Cost(9_500, 10))
    assert not b.reserve(ONE) and b.used() == Cost(9_500, 10)
    # Only a reservation holds the budget: the other replica polls instead of waiting forever.
    assert b.returns_in(ONE) == 5.0
    now[0] += 121  # ``a`` died without settling: its hold runs out
    assert b.reserve(ONE) and b.used() == ONE


def test_unlimited_resources_and_the_service_wiring(client: redis.Redis, redis_url: str) -> None:
    now = [1_790_000_000.0]
    tokens_only = RedisBudget(client, tokens=2_000, registry=CollectorRegistry(), clock=lambda: now[0])
    assert tokens_only.reserve(Cost(1_000, 1e6)) and tokens_only.reserve(Cost(1_000, 1e6))
    assert not tokens_only.reserve(Cost(1, 0))
    assert not tokens_only.ever_fits(Cost(2_001, 0)) and tokens_only.returns_in(Cost(2_001, 0)) is None

    registry = CollectorRegistry()
    redis_settings = Settings(store_backend="redis", redis_url=redis_url, llm_budget_tokens=5_000)
    assert isinstance(shared_budget(redis_settings, registry), RedisBudget)
    assert shared_budget(Settings(store_backend="redis", redis_url=redis_url), registry) is None  # unlimited
    assert shared_budget(Settings(llm_budget_tokens=5_000), registry) is None  # SQLite: single host


def test_an_unreachable_redis_fails_closed() -> None:
    dead = redis.Redis(port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    b = RedisBudget(dead, LIMIT_TOKENS, LIMIT_SECONDS, registry=CollectorRegistry(), poll=1.5)
    assert not b.reserve(ONE) and not b.fits(ONE)
    assert b.returns_in(ONE) == 1.5  # asked again soon, never stuck
    b.settle(ONE, ONE)  # logged, not raised


def test_two_schedulers_in_a_storm_share_the_one_budget(client: redis.Redis, tmp_path: Path) -> None:
    """Two replicas' refinement schedulers (each its own store and analyst) under a storm of 200
    incidents each: together they refine no more than the shared hourly budget allows."""
    now = [1_790_000_000.0]

    async def storm() -> list[MeteredAnalyst]:
        template = await build_analyst(Settings(data_dir=tmp_path), use_llm=False).first(
            "template", Notification.model_validate(notification())
        )
        replicas = []
        for n in range(2):
            store, analyst = SqliteStore(tmp_path / f"replica{n}.db"), MeteredAnalyst(now)
            refinement = Refinement(
                store, analyst, CollectorRegistry(), concurrency=1, backlog=50, clock=lambda: now[0],
                budget=budget(client, now), deadline=60,
            )
            replicas.append((store, analyst, refinement))
        for i in range(200):
            for n, (store, _, refinement) in enumerate(replicas):
                note = Notification.model_validate(notification(group=f"r{n}-{i}"))
                incident_id = store.ingest(note, now[0]).incident_id
                assert incident_id is not None
                store.save_analysis(incident_id, refinement.pending(template), now[0], False)
                incident = store.incident(incident_id)
                assert incident is not None
                await refinement.submit(incident)
                await asyncio.sleep(0)
        for _, _, refinement in replicas:
            await _drain(refinement)
            await refinement.close()
        return [analyst for _, analyst, _ in replicas]

    analysts = asyncio.run(storm())
    calls = [c for a in analysts for c in a.calls]
    assert all(a.calls for a in analysts)  # both replicas refined some
    # Each refinement reserves its prompt plus the answer cap and 60 model-seconds: the seconds
    # (300 s = 5 reservations at once) and the tokens decide how many can run within the hour.
    assert sum(c.tokens for _, _, c in calls) <= LIMIT_TOKENS
    assert sum(c.seconds for _, _, c in calls) <= LIMIT_SECONDS
    assert len(calls) < 400 / 10
