"""Run a scheduled job once per cluster, not once per replica: a lease per job in Redis.

Every replica of ``llm-sre serve`` schedules the same jobs; when one fires, the replica first takes
the job's lease (``SET NX PX`` with a random token — redis-py's :class:`~redis.asyncio.lock.Lock`,
whose extend and release are Lua scripts that act only while the token is still ours), keeps
extending it while the job runs, and releases it after. Whoever holds the lease also records when
the run started (``…:last``); a replica that fires the same tick later (its clock a little behind,
or the lease just released) sees that run and skips, so each tick runs once.

A holder killed mid-run stops extending: its lease expires after ``seconds`` and the next tick is
run by another replica. The tick it was running is not re-run (the others saw it taken).

    lease = JobLease(redis.asyncio.Redis.from_url(url), seconds=60)
    if await lease.run("digest", started=time.time(), ran=this_tick_ran, job=post_digest):
        ...  # this replica ran it
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[object]]


class JobLease:
    def __init__(
        self, client: aioredis.Redis, seconds: float = 60.0, prefix: str = "llm-sre:schedule"
    ) -> None:
        self._r = client
        self.seconds = seconds
        self._p = prefix

    @classmethod
    def from_url(cls, url: str, seconds: float = 60.0) -> JobLease:
        return cls(aioredis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10), seconds)

    async def run(self, name: str, started: float, ran: Callable[[float], bool], job: Job) -> bool:
        """Run ``job`` if no replica holds its lease and ``ran(last_start)`` says this tick has not
        run yet; ``False`` when it was skipped."""
        lock = self._r.lock(f"{self._p}:{name}:lease", timeout=self.seconds, blocking=False)
        if not await lock.acquire():
            return False
        try:
            last = await self._r.get(f"{self._p}:{name}:last")
            if last is not None and ran(float(last)):
                return False
            await self._r.set(f"{self._p}:{name}:last", repr(started))
            await self._while_held(lock, name, job)
            return True
        finally:
            with contextlib.suppress(LockError):  # expired, or taken over after a stall: not ours
                await lock.release()

    async def _while_held(self, lock: aioredis.lock.Lock, name: str, job: Job) -> None:
        """Run ``job``, extending the lease every third of it; cancel the job if the lease is lost
        (another replica may be running it now)."""
        task = asyncio.ensure_future(job())
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.seconds / 3)
            if done:
                task.result()
                return
            try:
                await lock.extend(self.seconds, replace_ttl=True)
            except RedisError:  # LockError (taken over) or Redis unreachable: no longer ours
                log.error("scheduled job %s lost its lease; cancelled", name)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return

    async def close(self) -> None:
        await self._r.aclose()
