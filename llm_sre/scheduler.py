"""Cron-scheduled jobs inside ``llm-sre serve``: the daily digest, the 5-minute health report, the
checklists and the store's prune — each one line with :meth:`Scheduler.add_job`.

APScheduler does the calendar work (cron parsing, local time zone and daylight-saving changes,
missed runs); this wrapper fixes the policy every job shares: one run of a job at a time, a missed
run is run once late rather than several times, and a job's exception is logged, never fatal.
With a :class:`~llm_sre.lease.JobLease` (the Redis store: several replicas), each tick of a job runs
on one replica of the cluster only.

    scheduler = Scheduler()                       # the server's local time zone
    scheduler = Scheduler(lease=JobLease.from_url(redis_url))   # once per cluster
    scheduler.add_job("digest", "0 8 * * *", lambda: post_digest())
    scheduler.start()
    ...
    await scheduler.stop()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone

from llm_sre.lease import JobLease

log = logging.getLogger(__name__)
JobFactory = Callable[[], Awaitable[object]]
MISFIRE_GRACE_SECONDS = 600  # a run delayed by a busy loop or a suspend still runs if this late


def never(_: float) -> bool:
    return False


def parse_cron(expr: str, timezone: tzinfo | None = None) -> CronTrigger:
    """A five-field crontab expression; a clear ``ValueError`` naming the expression otherwise."""
    try:
        return CronTrigger.from_crontab(expr, timezone=timezone or get_localzone())
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"invalid cron expression {expr!r} (want 'minute hour day month weekday'): {exc}"
        ) from None


class Scheduler:
    def __init__(self, timezone: tzinfo | None = None, lease: JobLease | None = None) -> None:
        self.timezone = timezone or get_localzone()
        self._scheduler = AsyncIOScheduler(timezone=self.timezone)
        self._lease = lease
        self._forced: set[str] = set()

    def add_job(self, name: str, cron: str | BaseTrigger, factory: JobFactory) -> None:
        """Run ``factory()`` (a new coroutine each time) on the ``cron`` schedule in local time."""
        trigger = parse_cron(cron, self.timezone) if isinstance(cron, str) else cron

        def ran(last_start: float) -> bool:
            """Did the run that started at ``last_start`` (on any replica) serve the current tick?
            Yes when the schedule's next fire after it is still ahead."""
            after = datetime.fromtimestamp(last_start, self.timezone) + timedelta(milliseconds=1)
            upcoming = trigger.get_next_fire_time(None, after)
            return upcoming is not None and upcoming > datetime.now(self.timezone)

        async def run() -> None:
            forced = name in self._forced
            self._forced.discard(name)
            try:
                if self._lease is None:
                    await factory()
                elif not await self._lease.run(name, time.time(), never if forced else ran, factory):
                    log.debug("scheduled job %s: another replica runs this tick", name)
            except Exception:
                log.exception("scheduled job %s failed", name)

        self._scheduler.add_job(run, trigger, id=name, name=name, max_instances=1, coalesce=True,
                                misfire_grace_time=MISFIRE_GRACE_SECONDS, replace_existing=True)  # fmt: skip

    @property
    def jobs(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def next_run(self, name: str) -> datetime | None:
        job = self._scheduler.get_job(name)
        return job.next_run_time if job is not None else None

    def trigger(self, name: str) -> None:
        """Run a job now, outside its schedule (an operator's "send the digest now", and tests)."""
        job = self._scheduler.get_job(name)
        if job is None:
            raise KeyError(name)
        self._forced.add(name)  # with a lease: run even if this tick already ran somewhere
        job.modify(next_run_time=datetime.now(self.timezone))

    def start(self) -> None:
        """Needs a running event loop (call it from the app's lifespan)."""
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._lease is not None:
            await self._lease.close()
