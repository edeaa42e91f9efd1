"""A replica that loses its lease while its Grafana create is in flight must not cause a second
annotation: the create is preceded by a pending mark fenced by the claim, and the successor that
finds the mark waits for the create to land (or time out) before creating its own."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.delivery.grafana import GrafanaNotifier
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.schemas import Notification
from alert_webhooks.service import grafana_api
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.store import StaleClaim
from alert_webhooks.worker import Worker, WorkerConfig
from tests.fakes import FakeGrafana
from tests.webhooks.conftest import GRAFANA_TOKEN, TOKEN, notification

LEASE = 1.0
IN_FLIGHT = 1.0  # the sink timeout: how long a create may take before it is given up


class SlowCreateGrafana(FakeGrafana):
    """Holds the first annotation create until ``land`` is set, serving everything else."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.held, self.land = threading.Event(), threading.Event()

    def before(self, method: str, path: str) -> None:
        if method == "POST" and path == "/api/annotations" and not self.held.is_set():
            self.held.set()
            self.land.wait(30)


def test_a_create_in_flight_when_the_lease_passes_makes_one_annotation(tmp_path: Path) -> None:
    with SlowCreateGrafana(GRAFANA_TOKEN) as grafana:
        settings = Settings(data_dir=tmp_path, webhook_token=TOKEN, grafana_url=grafana.url,
                            grafana_token=GRAFANA_TOKEN, sink_timeout_seconds=IN_FLIGHT)  # fmt: skip
        store = SqliteStore(tmp_path / "webhook.db")
        incident_id = store.ingest(Notification.model_validate(notification()), time.time()).incident_id

        def worker(owner: str) -> Worker:
            metrics = ServiceMetrics.create(CollectorRegistry())
            analyst = build_analyst(settings, registry=metrics.registry, use_llm=False)
            notifier = GrafanaNotifier(grafana_api(settings), in_flight=IN_FLIGHT)  # type: ignore[arg-type]
            config = WorkerConfig(lease=LEASE, llm_concurrency=0, owner=owner)
            return Worker(store, [notifier], analyst, metrics, config)

        async def scenario() -> None:
            (first,) = store.claim("a", 1, time.time(), LEASE)
            stalled = asyncio.create_task(worker("a").process(first))
            await asyncio.to_thread(grafana.held.wait, 10)  # a's create reached Grafana and hangs
            # a's lease passes; b takes the job over while a's create is still in flight
            (second,) = store.claim("b", 1, time.time() + LEASE + 1, LEASE)
            b = worker("b")
            await b.process(second)  # b must not create now
            grafana.land.set()  # a's create lands; a learns its claim passed on
            with pytest.raises(StaleClaim):  # a's create landed, but a's claim had passed on
                await stalled
            # b's retry (once it is due) adopts a's annotation instead of creating another one
            for retry in store.claim("b", 1, time.time() + 60, LEASE):
                await b.process(retry)

        asyncio.run(scenario())
        assert len(grafana.annotations) == 1, grafana.annotations
        incident = store.incident(incident_id)
        assert incident is not None and incident.deliveries["grafana"].ref == "1"
        store.close()
