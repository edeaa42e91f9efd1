"""The durable store behind the service: notifications, incidents, per-sink delivery state, the job
queue and dead letters — one protocol, SQLite (WAL, ``sqlite_store.py``) by default, Redis in
``redis_store.py``.

    store = SqliteStore(Path("data/webhook.db"))
    result = store.ingest(notification, now=time.time())   # persisted before the HTTP ack
    for job in store.claim("worker-1", limit=4, now=time.time(), lease=60):
        ...

The queue holds at most one job per incident and a job means "bring every sink up to date with the
incident's current state". That makes deliveries idempotent and order-free (a resolve that arrives
while the create is still queued just changes what the one job delivers), and a storm of updates
to one group coalesces into one job instead of thousands.

Store methods are blocking; the service calls them through :func:`call`, which runs each on the
executor the store names for it, never on the event loop: an ack must not wait for a reader.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.incidents import DeliveryState, Incident, IngestResult, Job
from alert_webhooks.schemas import Notification
from alert_webhooks.trials import ShadowRun

T = TypeVar("T")

#: store methods that only read; stores may run them apart from the writes
READS = frozenset({"incident", "incidents", "stats", "dead_letters", "ping"})


class StaleClaim(Exception):
    """The job's lease passed to another worker (this one stalled or was cut off from the store).

    Raised by a write that carries the job, so the old holder stops before its next sink call:
    only the current holder may mark a Slack POST pending and make it, which keeps every post
    either single or flagged as a possible repeat."""


@dataclass(frozen=True)
class QueueStats:
    depth: int
    oldest_age_seconds: float
    dead_letters: int
    dead_by_cause: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    incident_id: str
    attempts: int
    error: str
    dead_at: float
    cause: str = "local_bug"


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None
    severity: str | None = None
    alertname: str | None = None
    service: str | None = None


class Store(Protocol):
    def executor(self, method: str) -> Executor | None: ...
    def ingest(self, notification: Notification, now: float) -> IngestResult: ...
    def reprocess(self, notification_id: int, now: float) -> IngestResult: ...
    def incident(self, incident_id: str) -> Incident | None: ...
    def incidents(self, where: IncidentFilter, limit: int, offset: int) -> tuple[list[Incident], int]: ...
    # ``job``: fence the write with that claim (raise StaleClaim unless it is still the current one)
    def save_analysis(
        self, incident_id: str, analysis: AnalysisResult, now: float, bump: bool, job: Job | None = None
    ) -> None: ...
    def save_delivery(
        self, incident_id: str, sink: str, state: DeliveryState, job: Job | None = None
    ) -> None: ...
    def save_feedback(self, incident_id: str, voter: str, choice: str, now: float) -> Incident | None: ...
    # shadow mode's record: no new revision, so no sink hears of it
    def save_shadow(self, incident_id: str, run: ShadowRun) -> None: ...
    def enqueue(self, incident_id: str, now: float) -> None: ...
    def claim(self, owner: str, limit: int, now: float, lease: float) -> list[Job]: ...
    def complete(self, job: Job, now: float) -> None: ...
    def retry(self, job: Job, due_at: float, error: str) -> None: ...
    def dead_letter(self, job: Job, error: str, now: float, cause: str) -> None: ...
    def recover(self) -> None: ...
    def housekeeping(self) -> None: ...
    def prune(self, before: float) -> int: ...
    def stats(self, now: float) -> QueueStats: ...
    def dead_letters(self) -> list[DeadLetter]: ...
    def replay_dead_letters(self, incident_ids: list[str] | None, now: float) -> int: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


async def call(store: Store, fn: Callable[..., T], *args: object) -> T:
    """Run one store call off the event loop, on the executor the store picks for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(store.executor(fn.__name__), functools.partial(fn, *args))


async def read(store: Store, fn: Callable[[], T]) -> T:
    """Run ``fn`` (reads plus the work on their results, such as serialising a page) where the
    store runs its reads, so a large answer is built off the event loop and with bounded threads."""
    return await asyncio.get_running_loop().run_in_executor(store.executor("incidents"), fn)
