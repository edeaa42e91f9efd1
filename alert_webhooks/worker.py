"""The worker: claim an incident's job → analyse → bring every sink up to date → ack, retry or dead-letter.

    worker = Worker(store, notifiers, analyst, metrics, WorkerConfig())
    task = asyncio.create_task(worker.run())
    ...
    worker.intake_arrived()   # intake calls this after persisting, so delivery starts at once
    await worker.stop()

Admission control: at most ``concurrency`` jobs run at a time and only that many are claimed, so a
storm waits in the store (on disk), not in memory; the most severe incidents are claimed first;
while notifications keep arriving the worker paces itself so acks stay fast (``storm_share``). LLM
refinement runs after the deterministic summary is out, scheduled by :mod:`alert_webhooks.refinement`
(critical first, bounded backlog) — a storm never waits on the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from alert_webhooks.analysis.analyst import Analyst
from alert_webhooks.budget import Budget
from alert_webhooks.delivery import DeliveryError, Notifier, PermanentDeliveryError, cause_of, worst
from alert_webhooks.incidents import DeliveryState, Incident, Job
from alert_webhooks.masking import masked_analysis
from alert_webhooks.memory import release_free_memory
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.refinement import Refinement
from alert_webhooks.shadow import Shadow
from alert_webhooks.store import StaleClaim, Store, call
from exporters.redact import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 4
    llm_concurrency: int = 1
    llm_deadline: float = 60.0  # the analyst's: the most model-seconds a refinement can cost
    llm_budget_tokens: int | None = None  # per sliding hour; None: unlimited
    llm_budget_seconds: float | None = None
    max_attempts: int = 8
    retry_base: float = 1.0
    retry_max: float = 300.0
    lease: float = 60.0
    poll: float = 0.5  # longest a due retry waits for the loop to notice it
    # Intake first: while notifications arrived within ``storm_window`` seconds, run one job at a
    # time and rest between jobs so the worker takes at most ``storm_share`` of the event loop; acks
    # stay fast and the backlog waits on disk. Measured without it: ack p99 ~1 s at 200 new groups/s
    # on 2 cores (bench/intake.py).
    storm_window: float = 0.5
    storm_share: float = 0.1
    # Shutdown waits this long for running jobs (less than a process manager's kill timeout); an
    # unfinished job is picked up again after the restart.
    stop_grace: float = 5.0
    housekeeping_interval: float = 2.0  # SQLite WAL checkpoints: bounds the WAL file during a storm
    owner: str = f"{socket.gethostname()}-{os.getpid()}"


def backoff(attempts: int, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with full jitter (AWS architecture blog), never shorter than ``Retry-After``."""
    delay = random.uniform(base, min(cap, base * 2**attempts))
    return max(delay, retry_after or 0.0)


class Worker:
    def __init__(
        self,
        store: Store,
        notifiers: list[Notifier],
        analyst: Analyst,
        metrics: ServiceMetrics,
        config: WorkerConfig,
        clock: Callable[[], float] = time.time,
        budget: Budget | None = None,  # shared between replicas (redis_budget); default: this process's
        shadow: Shadow | None = None,  # a second model run on idle slots, never delivered
    ) -> None:
        self._store = store
        self._notifiers = notifiers
        self._analyst = analyst
        self._metrics = metrics
        self._config = config
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._last_intake = float("-inf")
        self._stopping = False
        self._active: set[asyncio.Task[None]] = set()
        budget = budget or Budget(
            config.llm_budget_tokens, config.llm_budget_seconds, registry=metrics.registry, clock=clock
        )
        self._refinement = Refinement(
            store,
            analyst,
            metrics.registry,
            concurrency=config.llm_concurrency,
            wake=self.wake,
            clock=clock,
            budget=budget,
            deadline=config.llm_deadline,
            shadow=shadow,
        )
        self.running = False

    @property
    def sinks(self) -> list[str]:
        return [n.sink for n in self._notifiers]

    def wake(self) -> None:
        self._wakeup.set()

    def intake_arrived(self) -> None:
        """Intake persisted a notification: deliver it soon, but give the intake the loop first."""
        self._last_intake = time.monotonic()
        self._wakeup.set()

    def _storm(self) -> bool:
        return time.monotonic() - self._last_intake < self._config.storm_window

    async def run(self) -> None:
        self.running = True
        next_housekeeping = 0.0
        try:
            while not self._stopping:
                try:
                    if time.monotonic() >= next_housekeeping:
                        next_housekeeping = time.monotonic() + self._config.housekeeping_interval
                        await asyncio.to_thread(self._store.housekeeping)
                        await asyncio.to_thread(release_free_memory)
                    claimed = await self._claim()
                except Exception:  # store unreachable (Redis restarting, disk full): try again
                    log.exception("worker: the store failed; retrying in %.1fs", self._config.poll)
                    claimed = 0
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self._config.poll)
                    self._wakeup.clear()
        finally:
            self.running = False

    async def _claim(self) -> int:
        free = (1 if self._storm() else self._config.concurrency) - len(self._active)
        if free <= 0:
            return 0
        jobs = await call(
            self._store, self._store.claim, self._config.owner, free, self._clock(), self._config.lease
        )
        for job in jobs:
            task = asyncio.create_task(self._guarded(job))
            self._active.add(task)
            task.add_done_callback(self._done)
        return len(jobs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._active.discard(task)
        self._wakeup.set()  # a slot is free: claim more

    async def stop(self) -> None:
        """Stop claiming and let running jobs finish; an unfinished one is released by its lease.

        Pending LLM refinements are cancelled: they are best effort and the deterministic summary
        is already out."""
        self._stopping = True
        self._wakeup.set()
        await self._refinement.close()
        if self._active:
            await asyncio.wait(set(self._active), timeout=self._config.stop_grace)

    async def _guarded(self, job: Job) -> None:
        started = time.monotonic()
        try:
            await self.process(job)
        except StaleClaim:
            # Our lease lapsed (a stall longer than the lease) and another worker holds the job:
            # it delivers; we must not post, ack or retry on its behalf.
            log.warning("incident %s: the claim passed to another worker; dropped", job.incident_id)
        except Exception as exc:
            # A bug (a payload the analysis did not expect) is an attempt like any other: it ends in
            # the dead-letter queue with its reason instead of coming back with every lease. If the
            # store itself is what failed, settling fails too and the lease brings the job back.
            log.exception("job for incident %s failed unexpectedly", job.incident_id)
            try:
                await self._settle(job, None, [(None, exc)])
            except Exception:
                log.exception("could not record the failure of incident %s", job.incident_id)
        if self._storm():  # rest while keeping the slot: paces the worker
            busy = time.monotonic() - started
            await asyncio.sleep(busy * (1 - self._config.storm_share) / self._config.storm_share)

    async def process(self, job: Job) -> None:
        incident = await call(self._store, self._store.incident, job.incident_id)
        if incident is None:
            await call(self._store, self._store.complete, job, self._clock())
            return
        if incident.analysis is None:
            incident = await self._analyse(incident, job)
        failures: list[tuple[Notifier | None, Exception]] = []
        for notifier in self._notifiers:
            state = incident.deliveries.get(notifier.sink, DeliveryState())
            if state.revision >= incident.revision:
                continue
            try:
                async for new_state in notifier.deliver(incident, state):
                    await call(
                        self._store, self._store.save_delivery, incident.id, notifier.sink, new_state, job
                    )
                self._metrics.deliveries.labels(sink=notifier.metric_sink, outcome="success").inc()
            except StaleClaim:
                raise
            except Exception as exc:  # whatever a sink raises is an attempt (classified by cause_of)
                if not isinstance(exc, DeliveryError | PermanentDeliveryError):
                    log.exception("%s delivery of %s failed unexpectedly", notifier.sink, incident.id)
                failures.append((notifier, exc))
        await self._settle(job, incident, failures)

    async def _analyse(self, incident: Incident, job: Job) -> Incident:
        analysis = self._refinement.pending(
            masked_analysis(await self._analyst.first(incident.id, incident.notification))
        )
        await call(self._store, self._store.save_analysis, incident.id, analysis, self._clock(), False, job)
        incident = replace(incident, analysis=analysis)
        await self._refinement.submit(incident)
        return incident

    async def _settle(
        self, job: Job, incident: Incident | None, failures: list[tuple[Notifier | None, Exception]]
    ) -> None:
        now = self._clock()
        if not failures:
            await call(self._store, self._store.complete, job, now)
            if incident is not None:
                self._metrics.processing.observe(max(0.0, now - incident.updated_at))
            return
        error = redact(
            "; ".join(f"{n.sink if n else 'worker'}: {type(exc).__name__}: {exc}" for n, exc in failures)
        )
        cause = worst([cause_of(exc) for _, exc in failures])
        # Only when nothing left is worth retrying: a Grafana 401 must not cost Slack its retries.
        permanent = all(isinstance(exc, PermanentDeliveryError) for _, exc in failures)
        if permanent or job.attempts + 1 >= self._config.max_attempts:
            await call(self._store, self._store.dead_letter, job, error, now, cause)
            outcome = "dead_letter"
            self._metrics.dead_lettered.labels(cause=cause).inc()
            log.warning(
                "incident %s dead-lettered after %d attempt(s) (%s): %s",
                job.incident_id,
                job.attempts + 1,
                cause,
                error,
            )
        else:
            retry_after = max((getattr(exc, "retry_after", None) or 0.0 for _, exc in failures), default=0.0)
            delay = backoff(job.attempts, self._config.retry_base, self._config.retry_max, retry_after)
            await call(self._store, self._store.retry, job, now + delay, error)
            outcome = "retry"
        for notifier, _ in failures:
            if notifier is None:
                continue
            self._metrics.deliveries.labels(sink=notifier.metric_sink, outcome=outcome).inc()
            if outcome == "retry":
                self._metrics.retries.labels(sink=notifier.metric_sink).inc()
