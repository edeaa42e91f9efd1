"""Cron-scheduled jobs inside ``llm-sre serve``: the daily digest, the 5-minute health report, and
whatever comes next (checklists, per-cluster leases) — each one line with :meth:`Scheduler.add_job`.

APScheduler does the calendar work (cron parsing, local time zone and daylight-saving changes,
missed runs); this wrapper fixes the policy every job shares: one run of a job at a time, a missed
run is run once late rather than several times, and a job's exception is logged, never fatal.

    scheduler = Scheduler()                       # the server's local time zone
    scheduler.add_job("digest", "0 8 * * *", lambda: post_digest())
    scheduler.start()
    ...
    await scheduler.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone

log = logging.getLogger(__name__)
JobFactory = Callable[[], Awaitable[object]]
MISFIRE_GRACE_SECONDS = 600  # a run delayed by a busy loop or a suspend still runs if this late


def parse_cron(expr: str, timezone: tzinfo | None = None) -> CronTrigger:
    """A five-field crontab expression; a clear ``ValueError`` naming the expression otherwise."""
    try:
        return CronTrigger.from_crontab(expr, timezone=timezone or get_localzone())
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"invalid cron expression {expr!r} (want 'minute hour day month weekday'): {exc}"
        ) from None


class Scheduler:
    def __init__(self, timezone: tzinfo | None = None) -> None:
        self.timezone = timezone or get_localzone()
        self._scheduler = AsyncIOScheduler(timezone=self.timezone)

    def add_job(self, name: str, cron: str, factory: JobFactory) -> None:
        """Run ``factory()`` (a new coroutine each time) on the ``cron`` schedule in local time."""
        trigger = parse_cron(cron, self.timezone)

        async def run() -> None:
            try:
                await factory()
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
        job.modify(next_run_time=datetime.now(self.timezone))

    def start(self) -> None:
        """Needs a running event loop (call it from the app's lifespan)."""
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
