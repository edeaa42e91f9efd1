"""Shared fixtures: Alertmanager v4 payloads, the service in-process against fake Slack/Grafana."""

from __future__ import annotations

import copy
import json
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import Analyst
from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.app import create_app
from alert_webhooks.delivery import Notifier
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.service import Service
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.store import Store
from alert_webhooks.worker import Worker, WorkerConfig
from llm_sre.processes import ManagedProcess, free_port, redis_server, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook

TOKEN = "test-webhook-token-0123456789"
GRAFANA_TOKEN = "glsa_testFakeServiceAccountToken_0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def notification(
    group: str = "g1",
    status: str = "firing",
    alerts: int = 1,
    starts: str = "2026-11-26T10:00:00Z",
    severity: str = "critical",
    alertname: str = "LLMErrorBurst",
    **annotations: str,
) -> dict[str, Any]:
    """An Alertmanager 0.25 webhook body (REFERENCE §1) for one group."""
    labels = {"alertname": alertname, "severity": severity, "service": f"svc-{group}"}
    ends = "2026-11-26T10:05:00Z" if status == "resolved" else "2026-11-26T11:00:00Z"
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity="{severity}"}}:{{alertname="{alertname}", group="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "llm-sre",
        "groupLabels": {"alertname": alertname, "service": labels["service"]},
        "commonLabels": labels,
        "commonAnnotations": {"summary": annotations.get("summary", "LLM error ratio above 5%")},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": status,
                "labels": {**labels, "instance": f"i{n}"},
                "annotations": {"summary": "LLM error ratio above 5%", **annotations},
                "startsAt": starts,
                "endsAt": ends,
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=x",
                "fingerprint": f"{group}-fp{n}",
            }
            for n in range(alerts)
        ],
    }


def resolved(body: dict[str, Any]) -> dict[str, Any]:
    done = copy.deepcopy(body)
    done["status"] = "resolved"
    for alert in done["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-26T10:05:00Z"
    return done


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    with FakeSlackWebhook() as fake:
        yield fake


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana(GRAFANA_TOKEN) as fake:
        yield fake


def sink_env(slack: FakeSlackWebhook, grafana: FakeGrafana) -> dict[str, str]:
    return {
        "SLACK_WEBHOOK_URL": f"{slack.url}/services/T000/B000/test",
        "GRAFANA_URL": grafana.url,
        "GRAFANA_TOKEN": GRAFANA_TOKEN,
    }


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Start the app in-process (lifespan runs the worker) with settings overrides."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values = {
            "data_dir": tmp_path,
            "webhook_token": TOKEN,
            "retry_base_seconds": 0.05,
            "retry_max_seconds": 0.5,
            "llm_concurrency": 0,
            **overrides,
        }
        client = TestClient(create_app(Settings(**values)))
        if values.get("webhook_token"):
            client.headers.update({"Authorization": f"Bearer {values['webhook_token']}"})
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def sink_settings(slack: FakeSlackWebhook, grafana: FakeGrafana) -> dict[str, str]:
    return {
        "slack_webhook_url": f"{slack.url}/services/T000/B000/test",
        "grafana_url": grafana.url,
        "grafana_token": GRAFANA_TOKEN,
    }


@pytest.fixture
def client(
    make_client: Callable[..., TestClient], slack: FakeSlackWebhook, grafana: FakeGrafana
) -> TestClient:
    return make_client(**sink_settings(slack, grafana))


def metric(client: TestClient, line: str) -> float:
    """The value of one exposition line of the app's ``/metrics`` (``name{labels}``)."""
    for row in client.get("/metrics").text.splitlines():
        if row.startswith(line + " "):
            return float(row.rsplit(" ", 1)[1])
    raise AssertionError(f"{line} not exposed")


def serve(tmp_path: Path, port: int, env: dict[str, str], log_level: str = "warning") -> ManagedProcess:
    """``llm-sre serve`` as its own process (what Alertmanager talks to in production); its stderr
    goes to ``tmp_path/webhook-<port>.log``."""
    return ManagedProcess(
        f"webhook-{port}",
        [
            str(Path(sys.executable).with_name("llm-sre")),
            "serve",
            "--port",
            str(port),
            "--log-level",
            log_level,
        ],
        tmp_path / f"webhook-{port}.log",
        env={
            "LLM_SRE_DATA_DIR": str(tmp_path / "data"),
            "LLM_SRE_WEBHOOK_TOKEN": TOKEN,
            "LLM_SRE_LLM_CONCURRENCY": "0",
            **env,
        },
        ready_url=f"http://127.0.0.1:{port}/readyz",
    ).start()


def post(port: int, body: dict[str, Any]) -> int:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/alertmanager",
        json.dumps(body).encode(),
        {**AUTH, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return int(resp.status)


def incidents(port: int) -> list[dict[str, Any]]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/incidents?limit=500", headers=AUTH)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return list(json.load(resp)["items"])


def delivered_count(port: int) -> int:
    return sum(1 for i in incidents(port) if i["delivered"])


def assemble(
    tmp_path: Path,
    notifiers: list[Notifier],
    analyst: Analyst | None = None,
    store: Store | None = None,
    **config: Any,
) -> tuple[Settings, Service]:
    """A service from hand-picked parts (sinks, analyst, store, worker config) for ``create_app``."""
    settings = Settings(data_dir=tmp_path, webhook_token=TOKEN)
    metrics = ServiceMetrics.create(CollectorRegistry())
    analyst = analyst or build_analyst(settings, registry=metrics.registry, use_llm=False)
    store = store or SqliteStore(tmp_path / "webhook.db")
    worker_config = WorkerConfig(**{"llm_concurrency": 0, "retry_base": 0.05, "retry_max": 0.2, **config})
    worker = Worker(store, notifiers, analyst, metrics, worker_config)
    return settings, Service(settings, store, metrics, worker, analyst)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server (Debian package) on a free port, for the module's tests."""
    base = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = redis_server(base / "data", port, base).start()
    client = redis.Redis(port=port)
    try:
        wait_until(client.ping, 15, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.stop()
