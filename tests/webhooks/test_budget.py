"""The hourly LLM budget under a 10,000-alert storm (2,000 incidents of 5 alerts in a real SQLite
store): spend within any hour never exceeds the limit, incidents that meet a spent budget keep the
deterministic summary at once (``budget_exhausted``), and when the budget returns the criticals go first.
The clock is injected; the scheduler, budget, store and metrics are the real ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.budget import Budget, Cost
from alert_webhooks.refinement import Refinement
from alert_webhooks.schemas import Notification
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.store import IncidentFilter
from tests.webhooks.conftest import notification

INCIDENTS, ALERTS = 2000, 5  # 10,000 alerts
MODEL_SECONDS = 20.0  # what one scripted refinement takes on the injected clock
TOKENS_OUT = 150
LIMIT_TOKENS, LIMIT_SECONDS = 60_000, 600.0


class MeteredAnalyst:
    """Answers at once, advancing the injected clock as a model would, and logs what it spent."""

    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.calls: list[tuple[float, str, Cost]] = []  # (finished at, severity, cost)

    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult:
        raise AssertionError("the scheduler only refines")

    async def refine(
        self, incident_id: str, notification: Notification, first: AnalysisResult
    ) -> AnalysisResult:
        self.now[0] += MODEL_SECONDS
        tokens_in = 1000
        self.calls.append((self.now[0], first.severity, Cost(tokens_in + TOKENS_OUT, MODEL_SECONDS)))
        grounding = first.grounding.model_copy(update={"tokens_in": tokens_in, "tokens_out": TOKENS_OUT})
        return first.model_copy(update={"summary": "LLM: refined [E1]", "grounding": grounding})


def _max_hourly(calls: list[tuple[float, str, Cost]]) -> Cost:
    """The largest spend within any one-hour window ending at a refinement."""
    most = Cost(0, 0.0)
    for end, _, _ in calls:
        spent = [c for t, _, c in calls if end - 3600 < t <= end]
        total = Cost(sum(c.tokens for c in spent), sum(c.seconds for c in spent))
        most = Cost(max(most.tokens, total.tokens), max(most.seconds, total.seconds))
    return most


async def _storm(tmp_path: Path) -> None:
    now = [1_790_000_000.0]
    registry = CollectorRegistry()
    store = SqliteStore(tmp_path / "webhook.db")
    template = await build_analyst(Settings(data_dir=tmp_path), use_llm=False).first(
        "template", Notification.model_validate(notification(alerts=ALERTS))
    )
    analyst = MeteredAnalyst(now)
    budget = Budget(LIMIT_TOKENS, LIMIT_SECONDS, registry=registry, clock=lambda: now[0])
    refinement = Refinement(
        store, analyst, registry, concurrency=1, backlog=100, clock=lambda: now[0], budget=budget, deadline=60
    )
    severities: dict[str, str] = {}
    for n in range(INCIDENTS):
        severity = "critical" if n % 10 == 9 else "warning"  # the criticals arrive late, among warnings
        body = Notification.model_validate(notification(group=f"g{n}", alerts=ALERTS, severity=severity))
        ingested = store.ingest(body, now[0])
        assert ingested.incident_id is not None
        first = refinement.pending(
            template.model_copy(update={"incident_id": ingested.incident_id, "severity": severity})
        )
        store.save_analysis(ingested.incident_id, first, now[0], False)
        incident = store.incident(ingested.incident_id)
        assert incident is not None
        severities[incident.id] = severity
        await refinement.submit(incident)
        await asyncio.sleep(0)  # let a started refinement run, as the service's loop would
    await _drain(refinement)
    spent_in_storm = len(analyst.calls)
    assert 0 < spent_in_storm < INCIDENTS / 10  # the budget, not the storm, decided how many ran

    # Every incident is already settled: refined, or waiting/skipped with a reason saying why.
    reasons = [
        i.analysis.grounding.fallback_reason
        for i in store.incidents(IncidentFilter(), INCIDENTS, 0)[0]
        if i.analysis
    ]
    assert reasons.count("budget_exhausted") > INCIDENTS / 2
    assert reasons.count("pending") <= 101  # only those queued before the budget ran out
    skipped = registry.get_sample_value(
        "llm_sre_analyst_refinements_skipped_total", {"reason": "budget_exhausted"}
    )
    assert skipped and skipped > 0
    assert registry.get_sample_value("llm_sre_analyst_budget_remaining", {"resource": "model_seconds"}) < 60

    # An hour later the budget has returned: the waiting criticals are refined before any warning.
    now[0] += 3601
    refinement.resume()
    await _drain(refinement)
    after = [severity for _, severity, _ in analyst.calls[spent_in_storm:]]
    assert len(after) == spent_in_storm and set(after) == {"critical"}  # the same budget, criticals only
    assert after == sorted(after)  # "critical" < "warning": no warning before the last critical
    await refinement.close()

    most = _max_hourly(analyst.calls)
    assert most.tokens <= LIMIT_TOKENS and most.seconds <= LIMIT_SECONDS, most
    spent = registry.get_sample_value("llm_sre_analyst_budget_spent_total", {"resource": "model_seconds"})
    assert spent == MODEL_SECONDS * len(analyst.calls)
    print(f"\nbudget storm: {len(analyst.calls)} refinements of {INCIDENTS}, max hourly spend {most}")


async def _drain(refinement: Refinement) -> None:
    """Until no refinement runs: the next one starts in the previous one's done callback, so an idle
    scheduler with incidents waiting is one the budget holds."""
    for _ in range(3000):
        if not refinement.running:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("refinements still running")


def test_budget_holds_under_a_ten_thousand_alert_storm(tmp_path: Path) -> None:
    asyncio.run(_storm(tmp_path))


def test_a_prompt_larger_than_the_whole_budget_is_skipped_not_stuck(tmp_path: Path) -> None:
    budget = Budget(tokens=10, registry=CollectorRegistry(), clock=lambda: 1000.0)
    assert not budget.ever_fits(Cost(11, 0))
    assert budget.reserve(Cost(10, 0)) and not budget.reserve(Cost(1, 0))
    budget.settle(Cost(10, 0), Cost(4, 0))
    assert budget.fits(Cost(6, 0)) and not budget.fits(Cost(7, 0))
    assert budget.returns_in(Cost(10, 0)) == 3600
