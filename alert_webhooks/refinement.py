"""LLM refinement scheduling: the one place that decides whether and when an incident is refined.

The deterministic summary is delivered first; refining it with the LLM is best effort and the model
(often one CPU-bound process) is the scarcest thing the service has. So refinements wait in a
priority queue — critical incidents before warnings before info, first come first within a
severity — at most ``concurrency`` run at once, and at most ``backlog`` wait. A newcomer to a
full queue takes the place of the least urgent waiting one, or is itself skipped when nothing
waiting is less urgent: in a storm of 600 warnings the 60 criticals are the ones refined.

An hourly :class:`~alert_webhooks.budget.Budget` (tokens and model-seconds) gates each start:
a refinement reserves the most it can cost before it runs. An incident that arrives while the
budget is spent is recorded at once as ``budget_exhausted`` (its deterministic summary stands) and
still waits in the queue, so when the budget returns the criticals are refined first; one whose
prompt is larger than the whole budget is ``prompt_too_large`` and never waits.

Every incident's analysis says what became of its refinement: ``grounding.fallback_reason`` is
``pending`` while it waits or runs, the analyst's reason when the model's answer was refused
(with ``rejected_ratio``, the share of its sentences that were grounded), ``budget_exhausted``
while the budget is spent, ``prompt_too_large`` when the prompt exceeds the context limit or the
whole budget, ``backlog`` or ``shutdown`` when it never ran, ``disabled`` when refinement is
off, and ``None`` only for an accepted LLM answer. Skips are counted (once per incident) in
``llm_sre_analyst_refinements_skipped_total{reason}``.

    refinement = Refinement(store, analyst, registry, concurrency=1, wake=worker.wake)
    first = refinement.pending(first)           # before the first result is saved
    await refinement.submit(incident)           # after: queue it, or record why not
    await refinement.close()                    # shutdown: cancel, record the unfinished

A :class:`~alert_webhooks.shadow.Shadow` configuration, when set, gets the slot only while no
primary refinement waits or runs, and gives it back at once (:meth:`_start`). Both configurations'
trials are counted in ``llm_sre_analyst_compared_*{config}``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import Analyst
from alert_webhooks.analysis.prompt import messages, prompt_tokens
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.budget import Budget, Cost
from alert_webhooks.incidents import Incident
from alert_webhooks.masking import masked_analysis
from alert_webhooks.store import Store, call
from alert_webhooks.trials import ConfigRole, Trial
from exporters.catalogue import metrics

if TYPE_CHECKING:
    from alert_webhooks.shadow import Shadow

log = logging.getLogger(__name__)

PENDING = "pending"
NEVER_CALLED = frozenset({"disabled", "prompt_too_large"})  # the analyst's reasons for not calling the model
_URGENCY = {"critical": 0, "warning": 1, "info": 2}


@dataclass(order=True)
class _Waiting:
    urgency: int
    seq: int
    incident: Incident = field(compare=False)


def with_reason(analysis: AnalysisResult, reason: str | None) -> AnalysisResult:
    return analysis.model_copy(
        update={"grounding": analysis.grounding.model_copy(update={"fallback_reason": reason})}
    )


def spent_by(final: AnalysisResult, reserved: Cost, elapsed: float) -> Cost:
    """What a refinement cost: the answer's size when the analyst knows it, nothing when the model
    was never called, else (timeout, error) all that was reserved."""
    used = final.grounding
    if used.tokens_in is not None and used.tokens_out is not None:
        return Cost(used.tokens_in + used.tokens_out, elapsed)
    if used.fallback_reason in NEVER_CALLED:
        return Cost(0, 0.0)
    return reserved


def observe(registry: CollectorRegistry | None, config: ConfigRole, trial: Trial) -> None:
    """One configuration's trial in the ``compared_*`` metrics the dashboard sets side by side."""
    m = metrics(registry)
    m["llm_sre_analyst_compared_refinements_total"].labels(config=config, outcome=trial.outcome).inc()
    m["llm_sre_analyst_compared_duration_seconds"].labels(config=config).observe(trial.latency_seconds)
    if trial.grounded_ratio is not None:
        m["llm_sre_analyst_compared_grounded_ratio"].labels(config=config).observe(trial.grounded_ratio)
    tokens = (trial.tokens_in or 0) + (trial.tokens_out or 0)
    m["llm_sre_analyst_compared_tokens_total"].labels(config=config).inc(tokens)


class Refinement:
    """A bounded priority queue of refinements in front of ``concurrency`` model slots."""

    def __init__(
        self,
        store: Store,
        analyst: Analyst,
        registry: CollectorRegistry | None = None,
        *,
        concurrency: int = 1,
        backlog: int | None = None,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
        budget: Budget | None = None,
        deadline: float = 60.0,
        shadow: Shadow | None = None,
    ) -> None:
        self._store, self._analyst, self._wake, self._clock = store, analyst, wake, clock
        self._registry, self._shadow = registry, shadow
        self.budget = budget or Budget(registry=registry, clock=clock)
        self._deadline = deadline
        self._deferred: set[str] = set()  # ids recorded (and counted) as skipped for the budget
        self._timer: asyncio.TimerHandle | None = None
        self.concurrency = max(concurrency, 0)
        self.backlog = self.concurrency if backlog is None else backlog
        self._waiting: list[_Waiting] = []
        self._running: dict[asyncio.Task[None], Incident] = {}
        self._seq = itertools.count()
        m = metrics(registry)
        self._skipped, self._depth = (
            m["llm_sre_analyst_refinements_skipped_total"],
            m["llm_sre_analyst_refinement_backlog"],
        )

    @property
    def enabled(self) -> bool:
        return self.concurrency > 0

    @property
    def running(self) -> int:
        """Refinements holding a model slot; 0 with some waiting means the budget holds them."""
        return len(self._running)

    def pending(self, first: AnalysisResult) -> AnalysisResult:
        """``first`` as it is saved before refinement: waiting for the model, or never refined."""
        return with_reason(first, PENDING if self.enabled else "disabled")

    def cost(self, analysis: AnalysisResult) -> Cost:
        """The most a refinement can cost: its prompt and the answer cap, the analyst's deadline."""
        return Cost(prompt_tokens(messages(analysis)), self._deadline)

    async def submit(self, incident: Incident) -> None:
        """Queue ``incident`` for refinement; when the queue is full the least urgent is skipped."""
        if not self.enabled:
            self._skipped.labels(reason="disabled").inc()
            return
        assert incident.analysis is not None
        if self._shadow is not None:
            self._shadow.offer(incident)
        cost = self.cost(incident.analysis)
        if not self.budget.ever_fits(cost):  # waiting would not help: larger than the whole budget
            await self._skip(incident, "prompt_too_large")
            return
        if not self.budget.fits(cost):  # spent: say so at once, and wait (by urgency) for it to return
            self._deferred.add(incident.id)
            await self._skip(incident, "budget_exhausted")
        urgency = _URGENCY.get(incident.severity, len(_URGENCY))
        heapq.heappush(self._waiting, _Waiting(urgency, next(self._seq), incident))
        if len(self._waiting) + len(self._running) > self.concurrency + self.backlog:
            least = max(self._waiting)  # least urgent, and the newest among equals
            self._waiting.remove(least)
            heapq.heapify(self._waiting)
            if least.incident.id not in self._deferred:  # already recorded and counted as budget
                await self._skip(least.incident, "backlog")
            self._deferred.discard(least.incident.id)
        self._start()

    def resume(self) -> None:
        """Start what the budget now allows (called when spend leaves the window)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._start()

    def _start(self) -> None:
        while self._waiting and len(self._running) < self.concurrency:
            incident = self._waiting[0].incident
            assert incident.analysis is not None
            cost = self.cost(incident.analysis)
            if not self.budget.reserve(cost):
                self._wait_for_budget(cost)
                break
            heapq.heappop(self._waiting)
            self._deferred.discard(incident.id)
            if self._shadow is not None:
                self._shadow.preempt()  # the primary takes the slot now, never after the shadow
            task = asyncio.create_task(self._refine(incident, cost))
            self._running[task] = incident
            task.add_done_callback(self._finished)
        if self._shadow is not None and not self._waiting and not self._running:
            self._shadow.start(self._store, self.cost, self._start)
        self._depth.set(len(self._waiting))

    def _wait_for_budget(self, cost: Cost) -> None:
        """Wake when settled spend leaves the window; if only running refinements hold the budget,
        their ends call :meth:`_start` anyway."""
        delay = self.budget.returns_in(cost)
        if delay is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay + 0.001, self.resume)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._start()

    async def _refine(self, incident: Incident, reserved: Cost) -> None:
        assert incident.analysis is not None
        spent, started = reserved, self._clock()
        try:
            first = with_reason(incident.analysis, None)  # the analyst decides the reason now
            final = await self._analyst.refine(incident.id, incident.notification, first)
            elapsed = self._clock() - started
            spent = spent_by(final, reserved, elapsed)
            self.budget.settle(reserved, spent)
            reserved = Cost(0, 0.0)
            if final.grounding.fallback_reason not in NEVER_CALLED:
                trial = Trial.of(final.grounding.backend, final, elapsed, self._clock())
                observe(self._registry, "primary", trial)
                if self._shadow is not None:
                    self._shadow.primary_done(incident.id, trial)
            final = masked_analysis(final)
            accepted = final.grounding.fallback_reason is None
            # Accepted: a new revision, so every sink is brought up to date. Refused: the reason
            # is recorded on the incident, and what was delivered stays as it is.
            await call(self._store, self._store.save_analysis, incident.id, final, self._clock(), accepted)
            if accepted:
                await call(self._store, self._store.enqueue, incident.id, self._clock())
                self._wake()
        except Exception:
            log.exception("refining incident %s failed; the deterministic summary stands", incident.id)
        finally:
            if reserved.tokens or reserved.seconds:  # not settled above: failed or cancelled
                self.budget.settle(reserved, reserved)

    async def _skip(self, incident: Incident, reason: str) -> None:
        self._skipped.labels(reason=reason).inc()
        assert incident.analysis is not None
        try:
            skipped = with_reason(incident.analysis, reason)
            await call(self._store, self._store.save_analysis, incident.id, skipped, self._clock(), False)
        except Exception:  # the store is going away or down: the count above still says it
            log.exception("could not record the skipped refinement of incident %s", incident.id)

    async def close(self) -> None:
        """Cancel running refinements and record every unfinished one as skipped (``shutdown``):
        they are best effort and the deterministic summary is already out."""
        unfinished = [w.incident for w in self._waiting if w.incident.id not in self._deferred]
        unfinished += list(self._running.values())
        self._waiting.clear()
        if self._timer is not None:
            self._timer.cancel()
        if self._shadow is not None:
            await self._shadow.close()
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.wait(set(self._running))
        for incident in unfinished:
            await self._skip(incident, "shutdown")
        self._depth.set(0)
