"""Shadow mode: a second model configuration runs on live incidents only while the model slot is
idle, gives the slot back the moment a primary refinement needs it, and its results are stored on
the incident and exported with ``config="shadow"`` — never delivered to Slack or Grafana.

The scheduler, store (SQLite; Redis for the record's round trip), worker, sinks' clients and metrics
are the real ones; the analysts are scripted (a model's timing is what these tests control), and
Slack and Grafana are the wire-format fakes of tests/fakes.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.app import create_app
from alert_webhooks.incidents import Incident
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.redis_store import RedisStore
from alert_webhooks.refinement import Refinement
from alert_webhooks.schemas import Notification
from alert_webhooks.service import Service, build_notifiers
from alert_webhooks.settings import Settings
from alert_webhooks.shadow import Shadow, build_shadow
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.trials import ShadowRun, Trial
from alert_webhooks.worker import Worker, WorkerConfig
from llm_sre.cli import main
from llm_sre.processes import wait_until
from tests.analysis.test_refinement import GatedAnalyst, accepted
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import AUTH, GRAFANA_TOKEN, TOKEN, notification, sink_settings

SHADOW_WORDS = "SHADOW: the candidate model says the cache is out of memory [E1]."


class ShadowAnalyst:
    """The candidate model: holds its answer until ``gate`` opens, logs starts and cancellations."""

    def __init__(self, log: list[str]) -> None:
        self.log, self.gate = log, asyncio.Event()

    async def first(self, incident_id: str, note: Notification) -> AnalysisResult:
        raise AssertionError("the shadow only refines")

    async def refine(self, incident_id: str, note: Notification, first: AnalysisResult) -> AnalysisResult:
        assert first.grounding.fallback_reason is None
        self.log.append(f"shadow-start {incident_id}")
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.log.append(f"shadow-cancelled {incident_id}")
            raise
        self.log.append(f"shadow-done {incident_id}")
        grounding = first.grounding.model_copy(
            update={"backend": "openai", "tokens_in": 900, "tokens_out": 80, "grounded_ratio": 0.8}
        )
        return first.model_copy(update={"summary": SHADOW_WORDS, "grounding": grounding})


class LoggedPrimary(GatedAnalyst):
    def __init__(self, tmp_path: Path, log: list[str]) -> None:
        super().__init__(tmp_path, accepted)
        self.log = log
        self.gate.set()

    async def refine(self, incident_id: str, note: Notification, first: AnalysisResult) -> AnalysisResult:
        self.log.append(f"primary-start {incident_id}")
        answer = await super().refine(incident_id, note, first)
        self.log.append(f"primary-done {incident_id}")
        return answer


async def _submit(store: SqliteStore, analyst: LoggedPrimary, refinement: Refinement, group: str) -> Incident:
    note = Notification.model_validate(notification(group=group))
    incident_id = store.ingest(note, 1.0).incident_id
    assert incident_id is not None
    store.save_analysis(incident_id, refinement.pending(await analyst.first(incident_id, note)), 1.0, False)
    incident = store.incident(incident_id)
    assert incident is not None
    await refinement.submit(incident)
    return incident


async def _until(check, what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_primary_arriving_while_the_shadow_runs_takes_the_slot_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        log: list[str] = []
        store, registry = SqliteStore(tmp_path / "incidents.db"), CollectorRegistry()
        primary, candidate = LoggedPrimary(tmp_path, log), ShadowAnalyst(log)
        shadow = Shadow(candidate, "openai:candidate", registry, primary_label="ollama:primary")
        refinement = Refinement(store, primary, registry, concurrency=1, shadow=shadow)

        a = await _submit(store, primary, refinement, "a")
        await _until(lambda: f"shadow-start {a.id}" in log, "the shadow to use the idle slot")
        assert log[:2] == [f"primary-start {a.id}", f"primary-done {a.id}"]  # the primary went first

        b = await _submit(store, primary, refinement, "b")
        assert refinement.running == 1  # B's refinement started inside submit: no waiting
        await _until(lambda: f"primary-done {b.id}" in log, "the primary refinement of B")
        await _until(lambda: log.count(f"shadow-start {a.id}") == 2, "the shadow to try A again")
        assert log[2:6] == [
            f"shadow-start {a.id}",
            f"shadow-cancelled {a.id}",  # preempted before B's refinement took its first step
            f"primary-start {b.id}",
            f"primary-done {b.id}",
        ]
        candidate.gate.set()
        await _until(lambda: f"shadow-done {b.id}" in log, "both shadow runs")
        await _until(lambda: not shadow.running, "the last shadow run to be saved")

        # Never both at once: every shadow start came after the primary before it was done.
        starts = [i for i, e in enumerate(log) if e.startswith("primary-start")]
        assert all(log[i + 1].startswith("primary-done") for i in starts)

        for incident in (a, b):
            stored = store.incident(incident.id)
            assert stored is not None and stored.shadow is not None and stored.analysis is not None
            run = stored.shadow
            assert run.shadow.config == "openai:candidate" and run.shadow.outcome == "accepted"
            assert run.shadow.grounded_ratio == 0.8
            assert (run.shadow.tokens_in, run.shadow.tokens_out) == (900, 80)
            assert run.primary is not None and run.primary.config == "ollama:primary"
            assert SHADOW_WORDS not in stored.analysis.summary  # recorded beside, never in place
            assert stored.revision == 2  # intake, the primary's answer; the shadow's record is none
        value = registry.get_sample_value
        for config in ("primary", "shadow"):
            labels = {"config": config, "outcome": "accepted"}
            assert value("llm_sre_analyst_compared_refinements_total", labels) == 2
        assert value("llm_sre_analyst_compared_tokens_total", {"config": "shadow"}) == 2 * 980
        assert value("llm_sre_analyst_compared_duration_seconds_count", {"config": "shadow"}) == 2
        await refinement.close()

    asyncio.run(scenario())


def test_the_shadow_waits_while_primaries_wait_and_stops_at_shutdown(tmp_path: Path) -> None:
    async def scenario() -> None:
        log: list[str] = []
        store, registry = SqliteStore(tmp_path / "incidents.db"), CollectorRegistry()
        primary, candidate = LoggedPrimary(tmp_path, log), ShadowAnalyst(log)
        primary.gate.clear()  # the model is busy with the primary's work
        shadow = Shadow(candidate, "openai:candidate", registry, backlog=2)
        refinement = Refinement(store, primary, registry, concurrency=1, backlog=5, shadow=shadow)
        ids = [(await _submit(store, primary, refinement, f"g{n}")).id for n in range(3)]
        await asyncio.sleep(0.05)  # give a wrongly started shadow the chance to show up in the log
        assert not any(e.startswith("shadow") for e in log) and shadow.waiting == 2  # oldest dropped
        primary.gate.set()
        await _until(lambda: f"shadow-start {ids[1]}" in log, "the shadow once primaries are done")
        assert f"shadow-start {ids[0]}" not in log
        await refinement.close()
        assert f"shadow-cancelled {ids[1]}" in log and not shadow.running and shadow.waiting == 0

    asyncio.run(scenario())


def test_slack_and_grafana_receive_nothing_from_the_shadow(tmp_path: Path) -> None:
    log: list[str] = []
    candidate = ShadowAnalyst(log)
    with FakeSlackWebhook() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        settings = Settings(data_dir=tmp_path, webhook_token=TOKEN, **sink_settings(slack, grafana))
        metrics = ServiceMetrics.create(CollectorRegistry())
        primary = LoggedPrimary(tmp_path, log)
        store = SqliteStore(tmp_path / "webhook.db")
        shadow = Shadow(candidate, "openai:candidate", metrics.registry)
        config = WorkerConfig(llm_concurrency=1, retry_base=0.05, retry_max=0.2)
        worker = Worker(store, build_notifiers(settings), primary, metrics, config, shadow=shadow)
        app = create_app(settings, Service(settings, store, metrics, worker, primary))
        with TestClient(app, headers=AUTH) as client:
            candidate.gate.set()
            assert client.post("/alertmanager", json=notification()).status_code == 200
            wait_until(lambda: any(e.startswith("shadow-done") for e in log), 15, what="the shadow run")
            (item,) = client.get("/api/v1/incidents").json()["items"]
            wait_until(lambda: (store.incident(item["id"]) or item).shadow is not None, 10, what="record")

            def sent() -> str:
                return json.dumps(slack.messages) + json.dumps(list(grafana.annotations.values()))

            # The primary's accepted answer is delivered (a new revision) ...
            wait_until(lambda: "LLM: Redis is out of memory" in sent(), 10, what="the primary's answer")
            wait_until(lambda: client.get("/api/v1/incidents").json()["items"][0]["delivered"], 10,
                       what="every sink up to date")
            assert "SHADOW" not in sent()  # ... the shadow's never is
            assert all("SHADOW" not in json.dumps(r.body) for r in [*slack.requests, *grafana.requests])
            metrics_text = client.get("/metrics").text
            shadow_line = 'llm_sre_analyst_compared_refinements_total{config="shadow",outcome="accepted"} 1.0'
            assert shadow_line in metrics_text


def test_the_shadow_record_round_trips_through_redis(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url)
    try:
        incident_id = store.ingest(Notification.model_validate(notification(group="r")), 1.0).incident_id
        assert incident_id is not None
        before = store.incident(incident_id)
        assert before is not None and before.shadow is None
        trial = Trial(config="openai:x", outcome="rejected", reason="ungrounded", grounded_ratio=0.3,
                      category="memory", latency_seconds=4.2, tokens_in=10, tokens_out=5, at=2.0)
        store.save_shadow(incident_id, ShadowRun(shadow=trial))
        stored = store.incident(incident_id)
        assert stored is not None and stored.shadow == ShadowRun(shadow=trial)
        assert stored.revision == before.revision
    finally:
        store.close()


def test_eval_reads_the_stored_shadow_trials(tmp_path: Path, capsys, monkeypatch) -> None:
    store = SqliteStore(tmp_path / "webhook.db")
    primary = LoggedPrimary(tmp_path, [])
    note = Notification.model_validate(notification())
    incident_id = store.ingest(note, 1.0).incident_id
    assert incident_id is not None
    store.save_analysis(incident_id, accepted(asyncio.run(primary.first(incident_id, note))), 1.0, True)
    base = dict(
        outcome="accepted", grounded_ratio=0.9, category="memory", tokens_in=800, tokens_out=60, at=3.0
    )
    store.save_shadow(
        incident_id,
        ShadowRun(
            primary=Trial(config="ollama:qwen2.5:7b", latency_seconds=12.0, **base),
            shadow=Trial(config="openai:small", latency_seconds=3.0, **{**base, "outcome": "rejected",
                                                                        "reason": "ungrounded"}),
        ),
    )
    store.close()
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path))
    assert main(["eval", "--shadow", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (p, s) = report["configs"]
    assert (p["config"], s["config"]) == ("ollama:qwen2.5:7b", "openai:small")
    assert p["totals"]["accepted"] == 1 and s["totals"]["rejected"] == 1
    assert s["cases"][0]["latency_seconds"] == 3.0 and report["differ"] == [incident_id]
    assert main(["eval", "--shadow"]) == 0 and "differ: " + incident_id in capsys.readouterr().out

    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path / "nowhere"))
    assert main(["eval", "--shadow"]) == 2
    assert "no service store" in capsys.readouterr().err
    assert main(["eval", "--shadow", "--limit", "0"]) == 2


def test_shadow_settings(tmp_path: Path) -> None:
    assert build_shadow(Settings(data_dir=tmp_path)) is None
    shadow = build_shadow(
        Settings(
            data_dir=tmp_path, shadow_backend="ollama", shadow_model="qwen2.5:3b", shadow_budget_tokens=5000
        )
    )
    assert shadow is not None and shadow.label == "ollama:qwen2.5:3b"
    assert shadow.primary_label == "ollama:qwen2.5:7b"
    assert shadow.budget.limit.tokens == 5000
    assert shadow.analyst.archive is None  # a shadow's answers never become past cases
    with pytest.raises(ValueError, match="LLM_SRE_OPENAI_BASE_URL"):
        build_shadow(Settings(data_dir=tmp_path, shadow_backend="openai", shadow_model="m"))
