"""One replica's scheduler for the lease tests, as its own process (so it can be SIGKILLed):
``python -m tests.webhooks.lease_replica REDIS_URL RUNS_FILE LEASE_SECONDS PERIOD [hang]``.

Its one job appends ``<pid> <start time>`` to RUNS_FILE and takes 0.2 s — or, with ``hang``,
never finishes (a holder that keeps extending its lease until it is killed). Skipped ticks are
logged on stderr ("another replica runs this tick")."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

from apscheduler.triggers.cron import CronTrigger

from llm_sre.lease import JobLease
from llm_sre.scheduler import Scheduler


async def main(url: str, runs: str, lease: float, period: int, hang: bool) -> None:
    scheduler = Scheduler(lease=JobLease.from_url(url, lease))

    async def job() -> None:
        with open(runs, "a") as out:
            out.write(f"{os.getpid()} {time.time()!r}\n")
        await asyncio.sleep(3600 if hang else 0.2)

    scheduler.add_job("tick", CronTrigger(second=f"*/{period}"), job)
    scheduler.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    url, runs, lease, period = sys.argv[1:5]
    asyncio.run(main(url, runs, float(lease), int(period), sys.argv[5:] == ["hang"]))
