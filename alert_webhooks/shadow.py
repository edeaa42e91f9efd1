"""Shadow mode: a second model configuration refines live incidents, for comparison only.

A candidate model (another size, quantisation, backend or prompt) is judged on the incidents the
service really gets before it replaces the primary one. The scheduler
(:mod:`alert_webhooks.refinement`) runs a shadow refinement only while the model slot is idle —
no primary refinement waiting or running — and cancels it the moment a primary one needs the slot
(the cancelled run is tried again when the slot is idle), so the shadow never delays the primary.
Its result is a :class:`~alert_webhooks.trials.ShadowRun` saved on the incident without a new
revision, and the ``llm_sre_analyst_compared_*{config="shadow"}`` metrics: no sink ever sees it.

The shadow spends its own hourly budget (``LLM_SRE_SHADOW_BUDGET_*``), never the primary's:
drawing on the primary's would let the comparison delay real summaries in the next storm.

    shadow = build_shadow(settings, registry)     # None unless LLM_SRE_SHADOW_BACKEND is set
    refinement = Refinement(store, analyst, registry, shadow=shadow)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import Analyst
from alert_webhooks.analysis.factory import build_analyst, with_model
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.budget import Budget, Cost
from alert_webhooks.incidents import Incident
from alert_webhooks.refinement import NEVER_CALLED, observe, spent_by, with_reason
from alert_webhooks.settings import Settings
from alert_webhooks.store import Store, call
from alert_webhooks.trials import ShadowRun, Trial

log = logging.getLogger(__name__)

BACKLOG = 100  # incidents waiting for an idle slot; the oldest are dropped first


@dataclass
class _Job:
    incident: Incident  # as submitted: its analysis is the deterministic first phase
    primary: Trial | None = None


class Shadow:
    """The shadow configuration's queue and its one run at a time."""

    def __init__(
        self,
        analyst: Analyst,
        label: str,
        registry: CollectorRegistry | None = None,
        *,
        budget: Budget | None = None,
        backlog: int = BACKLOG,
        clock: Callable[[], float] = time.time,
        primary_label: str = "primary",
    ) -> None:
        self.analyst, self.label, self._registry, self._clock = analyst, label, registry, clock
        self.primary_label = primary_label
        # A private registry: the primary's budget metrics must not show the shadow's spend.
        self.budget = budget or Budget(registry=CollectorRegistry(), clock=clock)
        self._backlog = backlog
        self._queue: OrderedDict[str, _Job] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._current: _Job | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def offer(self, incident: Incident) -> None:
        """Queue ``incident`` (its analysis the deterministic first phase) for a shadow run."""
        self._queue[incident.id] = _Job(incident)
        self._queue.move_to_end(incident.id)
        while len(self._queue) > self._backlog:
            self._queue.popitem(last=False)

    def primary_done(self, incident_id: str, trial: Trial) -> None:
        """Keep the primary's trial beside the shadow's, for the record."""
        job = self._queue.get(incident_id)
        if job is None and self._current is not None and self._current.incident.id == incident_id:
            job = self._current
        if job is not None:
            job.primary = trial.model_copy(update={"config": self.primary_label})

    def preempt(self) -> None:
        """A primary refinement needs the slot: stop the shadow's (it is tried again later)."""
        if self._task is not None:
            self._task.cancel()

    def start(self, store: Store, cost: Callable[[AnalysisResult], Cost], idle: Callable[[], None]) -> None:
        """Start the oldest waiting run if none is running; ``idle`` is called when it ends."""
        if self._task is not None or not self._queue or self._closed:
            return
        incident_id, job = next(iter(self._queue.items()))
        assert job.incident.analysis is not None
        reserved = cost(job.incident.analysis)
        if not self.budget.reserve(reserved):  # tried again at the next idle moment
            return
        del self._queue[incident_id]
        self._current = job
        self._task = asyncio.create_task(self._run(store, job, reserved))
        self._task.add_done_callback(lambda _: self._ended(idle))

    def _ended(self, idle: Callable[[], None]) -> None:
        self._task = self._current = None
        idle()

    async def _run(self, store: Store, job: _Job, reserved: Cost) -> None:
        incident = job.incident
        assert incident.analysis is not None
        spent, started, answered = reserved, self._clock(), False
        try:
            first = with_reason(incident.analysis, None)
            final = await self.analyst.refine(incident.id, incident.notification, first)
            answered = True  # from here a preemption only interrupts the saving, not the model
            elapsed = self._clock() - started
            spent = spent_by(final, reserved, elapsed)
            trial = Trial.of(self.label, final, elapsed, self._clock())
            if final.grounding.fallback_reason not in NEVER_CALLED:
                observe(self._registry, "shadow", trial)
            run = ShadowRun(primary=job.primary, shadow=trial)
            await asyncio.shield(call(store, store.save_shadow, incident.id, run))
        except asyncio.CancelledError:
            if not answered and not self._closed:  # first in line when the slot is idle again
                self._queue[incident.id] = job
                self._queue.move_to_end(incident.id, last=False)
                spent = Cost(reserved.tokens, min(self._clock() - started, reserved.seconds))
            raise
        except Exception:
            log.exception("shadow refinement of incident %s failed", incident.id)
        finally:
            self.budget.settle(reserved, spent)

    async def close(self) -> None:
        """Shutdown: stop the running trial, forget the waiting ones (they are only comparisons)."""
        self._closed = True
        if self._task is not None:
            task = self._task
            task.cancel()
            await asyncio.wait({task})
        self._queue.clear()


def build_shadow(settings: Settings, registry: CollectorRegistry | None = None) -> Shadow | None:
    """The shadow configuration from ``LLM_SRE_SHADOW_*``; ``None`` when it is not set."""
    if settings.shadow_backend == "none":
        return None
    shadow_settings, label = with_model(
        settings, settings.shadow_backend, settings.shadow_model or None, settings.shadow_host
    )
    # Its own metrics stay private (the compared_* ones report it); its answers are not archived,
    # so they never become a later incident's "past case".
    analyst = build_analyst(shadow_settings, registry=CollectorRegistry())
    analyst.archive = None
    budget = Budget(
        settings.shadow_budget_tokens, settings.shadow_budget_seconds, registry=CollectorRegistry()
    )
    primary = with_model(settings, settings.analyst_backend)[1]
    return Shadow(analyst, label, registry, budget=budget, primary_label=primary)
