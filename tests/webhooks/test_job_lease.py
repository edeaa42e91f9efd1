"""Scheduled jobs run once per cluster: several schedulers (own processes) on one real Redis."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from llm_sre.lease import JobLease
from llm_sre.processes import ManagedProcess, wait_until
from llm_sre.scheduler import Scheduler

LEASE = 1.5


def replica(tmp_path: Path, redis_url: str, name: str, period: int, hang: bool = False) -> ManagedProcess:
    argv = [sys.executable, "-m", "tests.webhooks.lease_replica", redis_url, str(tmp_path / "runs"),
            str(LEASE), str(period), *(["hang"] if hang else [])]  # fmt: skip
    return ManagedProcess(name, argv, tmp_path / f"{name}.log").start()


def runs(tmp_path: Path) -> list[tuple[int, float]]:
    path = tmp_path / "runs"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(int(pid), float(at)) for pid, at in (line.split() for line in lines)]


def skips(proc: ManagedProcess) -> int:
    return proc.log_path.read_text().count("another replica runs this tick")


def assert_once_per_tick(starts: list[float], period: int) -> None:
    """Runs of distinct ticks start about ``period`` apart; a second run of one tick would start
    within the first's 0.2 s. And no tick between the first and last run went missing."""
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) > period / 2, gaps
    assert len(starts) == round((starts[-1] - starts[0]) / period) + 1, gaps


@pytest.fixture
def procs() -> Iterator[list[ManagedProcess]]:
    started: list[ManagedProcess] = []
    yield started
    for proc in started:
        proc.stop()


@pytest.fixture
def fresh_redis(redis_url: str) -> str:
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


def test_three_schedulers_run_each_tick_once(
    tmp_path: Path, fresh_redis: str, procs: list[ManagedProcess]
) -> None:
    procs += [replica(tmp_path, fresh_redis, f"r{n}", period=1) for n in range(3)]
    wait_until(lambda: sum(skips(p) for p in procs) >= 4, 30, what="all three firing")
    wait_until(lambda: len(runs(tmp_path)) >= 5, 30, what="five runs")
    assert_once_per_tick(sorted(at for _, at in runs(tmp_path)), period=1)
    assert all(p.alive() for p in procs)


def test_a_killed_holder_is_taken_over_after_its_lease_expires(
    tmp_path: Path, fresh_redis: str, procs: list[ManagedProcess]
) -> None:
    client = redis.Redis.from_url(fresh_redis)
    holder = replica(tmp_path, fresh_redis, "holder", period=1, hang=True)
    procs.append(holder)
    wait_until(lambda: runs(tmp_path), 30, what="the holder's run")
    others = [replica(tmp_path, fresh_redis, f"r{n}", period=1) for n in range(2)]
    procs += others
    # The holder's run outlives its 1.5 s lease several times over: it keeps extending it, and
    # the others skip every tick meanwhile.
    wait_until(lambda: all(skips(p) >= 3 for p in others), 30, what="the others skipping")
    assert [pid for pid, _ in runs(tmp_path)] == [holder.proc.pid]  # type: ignore[union-attr]

    holder.kill()
    killed_at, left = time.time(), client.pttl("llm-sre:schedule:tick:lease") / 1000
    assert 0 < left <= LEASE
    wait_until(lambda: len(runs(tmp_path)) >= 5, 30, what="another replica taking over")
    taken = runs(tmp_path)[1:]
    assert {pid for pid, _ in taken} <= {p.proc.pid for p in others}  # type: ignore[union-attr]
    assert taken[0][1] >= killed_at + left - 0.05  # not before the dead holder's lease expired
    assert_once_per_tick([at for _, at in taken], period=1)


def test_a_triggered_job_runs_even_if_its_tick_ran_and_never_beside_a_holder(
    fresh_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``trigger`` (an operator's "send the digest now") skips the once-per-tick check, not the lease."""
    ran: list[str] = []

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(fresh_redis)
        await client.set("llm-sre:schedule:digest:last", repr(time.time()))  # this tick ran elsewhere
        scheduler = Scheduler(lease=JobLease(client, seconds=5))

        async def digest() -> None:
            ran.append("digest")

        scheduler.add_job("digest", "0 3 * * *", digest)
        scheduler.start()
        scheduler.trigger("digest")
        await asyncio.to_thread(wait_until, lambda: ran, 10, what="the triggered run")
        holder = client.lock("llm-sre:schedule:digest:lease", timeout=5)
        assert await holder.acquire(blocking=False)  # another replica runs it right now
        scheduler.trigger("digest")
        skipped = "scheduled job digest: another replica runs this tick"
        await asyncio.to_thread(wait_until, lambda: skipped in caplog.text, 10, what="the skip")
        await holder.release()
        await scheduler.stop()

    with caplog.at_level(logging.DEBUG, logger="llm_sre.scheduler"):
        asyncio.run(scenario())
    assert ran == ["digest"]
