"""The refinement scheduler over a real SQLite store: critical incidents are refined first, the
backlog is bounded, every skip is counted with its reason, and every incident's analysis says what
became of its refinement."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.incidents import Incident
from alert_webhooks.refinement import PENDING, Refinement
from alert_webhooks.schemas import Notification
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore
from tests.webhooks.conftest import notification


class GatedAnalyst:
    """Refines only when the test opens the gate; records the order incidents were refined in."""

    def __init__(self, tmp_path: Path, verdict: Callable[[AnalysisResult], AnalysisResult]) -> None:
        self.base = build_analyst(Settings(data_dir=tmp_path), registry=CollectorRegistry(), use_llm=False)
        self.gate = asyncio.Event()
        self.order: list[str] = []
        self.verdict = verdict

    async def first(self, incident_id: str, note: Notification) -> AnalysisResult:
        return await self.base.first(incident_id, note)

    async def refine(self, incident_id: str, note: Notification, first: AnalysisResult) -> AnalysisResult:
        assert first.grounding.fallback_reason is None  # the scheduler's "pending" is not the analyst's
        self.order.append(incident_id)
        await self.gate.wait()
        return self.verdict(first)


def accepted(first: AnalysisResult) -> AnalysisResult:
    return first.model_copy(
        update={
            "summary": "LLM: Redis is out of memory [E1].",
            "grounding": first.grounding.model_copy(update={"backend": "ollama"}),
        }
    )


def refused(first: AnalysisResult) -> AnalysisResult:
    grounding = first.grounding.model_copy(update={"fallback_reason": "ungrounded", "rejected_ratio": 0.25})
    return first.model_copy(update={"grounding": grounding})


class Bench:
    def __init__(self, tmp_path: Path, verdict=accepted, **kw: int) -> None:
        self.store = SqliteStore(tmp_path / "incidents.db")
        self.analyst = GatedAnalyst(tmp_path, verdict)
        self.registry = CollectorRegistry()
        self.wakes = 0
        self.refinement = Refinement(self.store, self.analyst, self.registry, wake=self._wake, **kw)

    def _wake(self) -> None:
        self.wakes += 1

    async def submit(self, group: str, severity: str) -> Incident:
        """Intake → first analysis saved as pending → submitted, as the worker does it."""
        note = Notification.model_validate(notification(group=group, severity=severity))
        incident_id = self.store.ingest(note, 1.0).incident_id
        assert incident_id is not None
        incident = self.store.incident(incident_id)
        assert incident is not None
        analysis = self.refinement.pending(await self.analyst.first(incident.id, note))
        self.store.save_analysis(incident.id, analysis, 1.0, False)
        incident = self.store.incident(incident.id)
        assert incident is not None
        await self.refinement.submit(incident)
        return incident

    def reason(self, incident: Incident) -> str | None:
        stored = self.store.incident(incident.id)
        assert stored is not None and stored.analysis is not None
        return stored.analysis.grounding.fallback_reason

    def skipped(self, reason: str) -> float:
        return (
            self.registry.get_sample_value("llm_sre_analyst_refinements_skipped_total", {"reason": reason})
            or 0
        )

    async def drain(self, until: Callable[[], bool]) -> None:
        self.analyst.gate.set()
        for _ in range(200):
            if until():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("refinements did not finish")


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def test_critical_incidents_are_refined_first(tmp_path: Path) -> None:
    async def scenario() -> None:
        bench = Bench(tmp_path, concurrency=1, backlog=10)
        w1 = await bench.submit("w1", "warning")  # starts at once: the model is free
        for group, severity in [("w2", "warning"), ("i1", "info"), ("c1", "critical"), ("c2", "critical")]:
            await bench.submit(group, severity)
        assert bench.reason(w1) == PENDING
        await bench.drain(lambda: len(bench.analyst.order) == 5 and bench.wakes == 5)
        groups = [bench.store.incident(i).service for i in bench.analyst.order]  # type: ignore[union-attr]
        assert groups == ["svc-w1", "svc-c1", "svc-c2", "svc-w2", "svc-i1"]
        refined = bench.store.incident(w1.id)
        assert refined is not None and refined.analysis is not None
        assert (
            refined.analysis.summary.startswith("LLM:") and refined.analysis.grounding.fallback_reason is None
        )
        assert refined.revision == w1.revision + 1  # a new revision: every sink is updated

    run(scenario)


def test_a_full_backlog_skips_the_least_urgent_and_says_so(tmp_path: Path) -> None:
    async def scenario() -> None:
        bench = Bench(tmp_path, concurrency=1, backlog=2)
        await bench.submit("w1", "warning")  # running
        w2 = await bench.submit("w2", "warning")
        w3 = await bench.submit("w3", "warning")  # the backlog is full now
        w4 = await bench.submit("w4", "warning")  # nothing waiting is less urgent: w4 is skipped
        assert bench.reason(w4) == "backlog" and bench.skipped("backlog") == 1
        c1 = await bench.submit("c1", "critical")  # takes the place of the newest warning, w3
        assert bench.reason(w3) == "backlog" and bench.skipped("backlog") == 2
        assert bench.registry.get_sample_value("llm_sre_analyst_refinement_backlog") == 2
        await bench.drain(lambda: len(bench.analyst.order) == 3 and bench.wakes == 3)
        assert bench.analyst.order[1:] == [c1.id, w2.id]
        assert bench.reason(w3) == bench.reason(w4) == "backlog"

    run(scenario)


def test_a_refused_answer_is_recorded_without_a_new_revision(tmp_path: Path) -> None:
    async def scenario() -> None:
        bench = Bench(tmp_path, verdict=refused, concurrency=1)
        w1 = await bench.submit("w1", "warning")
        await bench.drain(lambda: bench.reason(w1) == "ungrounded")
        stored = bench.store.incident(w1.id)
        assert stored is not None and stored.analysis is not None
        assert stored.analysis.grounding.rejected_ratio == 0.25
        assert stored.revision == w1.revision and bench.wakes == 0  # nothing new to deliver

    run(scenario)


def test_shutdown_records_every_unfinished_refinement(tmp_path: Path) -> None:
    async def scenario() -> None:
        bench = Bench(tmp_path, concurrency=1, backlog=4)
        running = await bench.submit("c1", "critical")
        waiting = await bench.submit("w1", "warning")
        await asyncio.sleep(0)  # the first refinement starts
        await bench.refinement.close()
        assert bench.reason(running) == bench.reason(waiting) == "shutdown"
        assert bench.skipped("shutdown") == 2 and bench.analyst.order == [running.id]

    run(scenario)


def test_disabled_refinement_is_recorded_and_counted(tmp_path: Path) -> None:
    async def scenario() -> None:
        bench = Bench(tmp_path, concurrency=0)
        w1 = await bench.submit("w1", "warning")
        assert bench.reason(w1) == "disabled" and bench.skipped("disabled") == 1
        assert bench.analyst.order == []

    run(scenario)
