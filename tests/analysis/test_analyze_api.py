"""``POST /api/v1/analyze``, ``GET /api/v1/analyze/{id}`` and ``llm-sre analyze``: the service's code path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.archive import Archive
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.routes import analysis as routes
from alert_webhooks.settings import get_settings
from llm_sre.cli import main
from tests.analysis.conftest import OPEN
from tests.analysis.payloads import load_case, payload

REDIS_INFO = """# Server\r
redis_version:7.2.4\r
# Clients\r
connected_clients:10000\r
maxclients:10000\r
# Stats\r
rejected_connections:4821\r
total_commands_processed:99182731\r
"""


@pytest.fixture
def client(kb: KnowledgeBase, tmp_path: Path) -> TestClient:
    analyst = IncidentAnalyst(kb, archive=Archive(tmp_path / "knowledge.db"), registry=CollectorRegistry())
    app = FastAPI()
    app.include_router(routes.router)
    app.state.analyst = analyst  # how the service shares its worker's analyst with the routes
    app.state.service = OPEN
    app.dependency_overrides[routes.get_knowledge] = lambda: kb
    with TestClient(app) as c:
        yield c


def test_analyze_incident_input_and_read_it_back(client: TestClient) -> None:
    body = {
        "timestamp": "2026-11-26T23:10:00Z",
        "error_logs": ["redis.exceptions.ConnectionError: max number of clients reached"] * 3,
        "metrics": {"pool_max_connections": 500},
        "redis_info": REDIS_INFO,
        "redis_version": "7.2.4",
        "deployment_type": "standalone",
        "description": "Checkout workers cannot get a Redis connection",
    }
    resp = client.post("/api/v1/analyze", json=body)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["category"] == "connection"
    assert result["incident_id"].startswith("api-")
    texts = [e["text"] for e in result["evidence"]]
    assert "connected_clients=10000 is 100% of maxclients=10000" in texts
    assert not any("total_commands_processed" in t for t in texts)  # INFO noise is not evidence
    assert result["grounding"] == {
        "grounded_ratio": 1.0,
        "dropped_sentences": 0,
        "backend": "deterministic",
        "fallback_reason": "disabled",
        "rejected_ratio": None,
        "tokens_in": None,
        "tokens_out": None,
    }
    assert client.get(f"/api/v1/analyze/{result['incident_id']}").json() == result
    assert client.get("/api/v1/analyze/nope").status_code == 404


def test_analyze_rejects_bad_input(client: TestClient) -> None:
    assert client.post("/api/v1/analyze", json={"error_logs": "not a list"}).status_code == 422
    assert client.post("/api/v1/analyze", json={"deployment_type": "mainframe"}).status_code == 422


def test_cli_prints_the_same_result_shape(tmp_path: Path, monkeypatch, capsys) -> None:
    notification, data = load_case("container-ollama-oom-killed")
    (tmp_path / "alert.json").write_text(json.dumps(payload(data["alerts"])))
    (tmp_path / "app.log").write_text("\n".join(data["logs"]))
    (tmp_path / "metrics.json").write_text(json.dumps(data["metrics"]))
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    monkeypatch.delenv("LOKI_URL", raising=False)
    get_settings.cache_clear()

    args = ["analyze", "--alert", str(tmp_path / "alert.json"), "--logs", str(tmp_path / "app.log")]
    code = main([*args, "--metrics", str(tmp_path / "metrics.json"), "--no-llm"])
    result = json.loads(capsys.readouterr().out)
    get_settings.cache_clear()

    assert code == 0
    assert result["incident_id"] == f"cli-{notification.alerts[0].fingerprint}"
    assert result["category"] == "container"
    assert result["grounding"]["fallback_reason"] == "disabled"
    assert any("Killed process" in e["text"] for e in result["evidence"])
    assert (tmp_path / "data" / "knowledge.db").exists()


def test_cli_reports_a_bad_payload(tmp_path: Path, capsys) -> None:
    (tmp_path / "alert.json").write_text('{"version": "4"}')
    assert main(["analyze", "--alert", str(tmp_path / "alert.json"), "--no-llm"]) == 2
    assert "validation error" in capsys.readouterr().err


def test_naive_and_offset_timestamps_are_read_as_utc(client: TestClient) -> None:
    for stamp in ("2026-11-26T23:10:00", "2026-11-27T01:10:00+02:00"):
        result = client.post("/api/v1/analyze", json={"timestamp": stamp, "description": "x"}).json()
        assert "since 23:10:00 UTC" in result["summary"]


def test_past_incidents_of_the_same_runbook_are_related_cases(client: TestClient) -> None:
    body = {"error_logs": ["ERR max number of clients reached"], "redis_info": REDIS_INFO}
    first = client.post("/api/v1/analyze", json={**body, "timestamp": "2026-11-25T08:00:00Z"}).json()
    other = client.post("/api/v1/analyze", json={"error_logs": ["CLUSTERDOWN The cluster is down"]}).json()
    again = client.post("/api/v1/analyze", json={**body, "timestamp": "2026-11-26T23:10:00Z"}).json()

    assert again["related_cases"][0].startswith(f"incident {first['incident_id']} (")
    assert "since 08:00:00 UTC." in again["related_cases"][0] and "[E" not in again["related_cases"][0]
    assert not any(other["incident_id"] in c for c in again["related_cases"])
    assert not any(again["incident_id"] in c for c in again["related_cases"])
