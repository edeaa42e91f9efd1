"""The two-phase analysis: the deterministic summary goes out at once; a grounded LLM answer, when it
comes, edits the annotation; a busy LLM never holds a delivery back (the LLM budget)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alert_webhooks.analysis.analyst import Analyst
from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.app import create_app
from alert_webhooks.delivery.grafana import GrafanaNotifier
from alert_webhooks.schemas import Notification
from alert_webhooks.service import build_notifiers
from alert_webhooks.settings import Settings
from llm_sre.processes import wait_until
from tests.fakes import FakeGrafana
from tests.webhooks.conftest import AUTH, GRAFANA_TOKEN, assemble, notification


class ScriptedAnalyst:
    """Deterministic first phase from the real analyst; refine answers when the test lets it."""

    def __init__(self, base: Analyst) -> None:
        self.base = base
        self.release = threading.Event()
        self.refined: list[str] = []

    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult:
        return await self.base.first(incident_id, notification)

    async def refine(
        self, incident_id: str, notification: Notification, first: AnalysisResult
    ) -> AnalysisResult:
        await asyncio.to_thread(self.release.wait, 10)
        self.refined.append(incident_id)
        return first.model_copy(update={"summary": "LLM: the model server ran out of memory [E1]"})


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[TestClient, ScriptedAnalyst, FakeGrafana]]:
    """The app with the scripted analyst, one LLM slot, and Grafana as the only sink."""
    analyst = ScriptedAnalyst(build_analyst(Settings(data_dir=tmp_path), use_llm=False))
    with FakeGrafana(GRAFANA_TOKEN) as grafana:
        settings = Settings(data_dir=tmp_path, grafana_url=grafana.url, grafana_token=GRAFANA_TOKEN)
        (notifier,) = [n for n in build_notifiers(settings) if isinstance(n, GrafanaNotifier)]
        app = create_app(*assemble(tmp_path, [notifier], analyst, llm_concurrency=1))
        with TestClient(app, headers=AUTH) as client:
            yield client, analyst, grafana


def _items(client: TestClient) -> list[dict]:
    return client.get("/api/v1/incidents").json()["items"]


def test_refined_analysis_updates_the_annotation_after_the_first_summary(running) -> None:
    client, analyst, grafana = running
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _items(client)[0]["delivered"], 10, what="first summary delivered")
    (annotation,) = grafana.annotations.values()
    assert "LLM:" not in annotation["text"]  # the deterministic summary did not wait for the LLM
    analyst.release.set()
    wait_until(lambda: "LLM:" in annotation["text"], 10, what="refined annotation")
    assert _items(client)[0]["summary"].startswith("LLM:")
    assert len(grafana.annotations) == 1 and "llm-sre" in annotation["tags"]


def test_a_busy_llm_skips_refinement_but_every_incident_is_delivered(running) -> None:
    client, analyst, grafana = running
    for n in range(6):
        client.post("/alertmanager", json=notification(group=f"g{n}"), headers=AUTH)
    wait_until(lambda: sum(i["delivered"] for i in _items(client)) == 6, 15, what="all delivered")
    analyst.release.set()
    wait_until(lambda: len(analyst.refined) == 2, 10, what="the budgeted refinements")
    # Budget = 2 × llm_concurrency waiting or running; the other four kept the deterministic summary.
    assert len(analyst.refined) == 2
    assert len(grafana.annotations) == 6
