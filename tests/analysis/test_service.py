"""The analyst inside the running webhook service: Alertmanager → worker → deterministic first,
then a grounded answer from a local Ollama stand-in → readable at ``/api/v1/analyze/{id}``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from alert_webhooks.app import create_app
from alert_webhooks.settings import Settings
from llm_sre.processes import wait_until
from tests.analysis.fake_llm import FakeModelServer
from tests.analysis.payloads import load_case, payload

TOKEN = "analyst-service-token-0123456789"


def cite_first_alert(body: dict) -> str:
    """A model that cites the alert evidence correctly (the alert's name is in E1)."""
    alertname = re.search(r"E1 \(alert\): alert (\S+)", body["messages"][1]["content"]).group(1)
    return json.dumps(
        {
            "summary": [{"evidence": "E1", "sentence": f"{alertname} is firing and Redis refuses writes."}],
            "root_cause": {"evidence": "E1", "sentence": "Memory is exhausted, so writes are refused."},
            "actions": [],
            "confidence": 0.7,
        }
    )


def test_worker_analysis_is_refined_and_served(tmp_path: Path) -> None:
    _, data = load_case("memory-redis-oom")
    with FakeModelServer() as ollama:
        ollama.answer = cite_first_alert
        settings = Settings(data_dir=tmp_path, webhook_token=TOKEN, ollama_host=ollama.url, llm_concurrency=1)
        with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            resp = client.post("/alertmanager", json=payload(data["alerts"]))
            incident_id = resp.json()["incident_id"]

            def refined() -> bool:
                got = client.get(f"/api/v1/analyze/{incident_id}")
                return got.status_code == 200 and got.json()["grounding"]["backend"] == "ollama"

            wait_until(refined, 20, what="the worker's LLM refinement")
            result = client.get(f"/api/v1/analyze/{incident_id}").json()
            incident = client.get(f"/api/v1/incidents/{incident_id}").json()
            exposition = client.get("/metrics").text

    assert result["summary"] == "RedisOutOfMemory is firing and Redis refuses writes [E1]."
    assert result["category"] == "memory" and result["immediate_actions"]  # phase one's kept
    assert incident["analysis"]["grounding"]["backend"] == "ollama"
    assert ollama.requests[0].body["model"] == "qwen2.5:7b"
    assert 'llm_sre_analyst_results_total{backend="ollama"} 1.0' in exposition
