"""``/api/v1/ask``, ``/api/v1/clusters``, ``/api/v1/security/detections``: auth, limits, bodies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from alert_webhooks.app import create_app
from alert_webhooks.settings import Settings
from analysts.settings import get_settings
from clustering.store import save_snapshot

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def client(tmp_path, token: str | None = TOKEN) -> TestClient:
    settings = Settings(
        data_dir=tmp_path, webhook_token=token, analyst_backend="none", ollama_host="http://127.0.0.1:9"
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One app for the module: starting its store and worker costs a second or two."""
    data = tmp_path_factory.mktemp("api")
    with client(data) as c:
        c.data_dir = data
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/ask"), ("get", "/api/v1/clusters"), ("get", "/api/v1/security/detections")],
)
def test_wrong_or_missing_token_is_401(api, method: str, path: str) -> None:
    assert getattr(api, method)(path).status_code == 401
    assert getattr(api, method)(path, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_no_token_configured_fails_closed_unless_insecure(tmp_path, monkeypatch) -> None:
    with client(tmp_path, token=None) as c:
        r = c.get("/api/v1/clusters")
        assert r.status_code == 401 and "closed" in r.json()["detail"]
    monkeypatch.setenv("LLM_SRE_INSECURE", "1")  # the service's settings decide, as for every route
    with client(tmp_path, token=None) as c:
        assert c.get("/api/v1/clusters").status_code == 200


def test_question_over_the_limit_is_413(api, monkeypatch) -> None:
    monkeypatch.setenv("LLM_SRE_ASK_MAX_CHARS", "50")
    get_settings.cache_clear()
    r = api.post("/api/v1/ask", json={"question": "why " * 20}, headers=AUTH)
    assert r.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        '{"question": ',
        '{"question": ""}',
        '{"labels": {}}',
        "[1, 2]",
        '{"question": "x", "labels": {"a": 1}}',
    ],
)
def test_malformed_bodies_are_422(api, body: str) -> None:
    r = api.post("/api/v1/ask", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422


def test_ask_routes_and_answers_without_guessing(api) -> None:
    r = api.post("/api/v1/ask", json={"question": "why did p95 latency double since noon?"}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert (body["analyst"], body["method"]) == ("sre", "rules")
    assert body["answer"].startswith("not enough evidence: missing PROMETHEUS_URL")
    route = api.post(
        "/api/v1/ask", json={"question": "brute force on login?", "route_only": True}, headers=AUTH
    ).json()
    assert route["analyst"] == "security" and route["answer"] is None


def test_clusters_serve_the_snapshot_filtered_by_service(api) -> None:
    assert api.get("/api/v1/clusters", headers=AUTH).json()["incidents"] == []
    save_snapshot(
        api.data_dir,
        {
            "generatedAt": "2026-12-01T10:00:00+00:00",
            "embedder": "local",
            "incidents": [
                {"incidentId": "cl-1", "services": ["rag-api", "ingest"]},
                {"incidentId": "cl-2", "services": ["db"]},
            ],
        },
    )
    got = api.get("/api/v1/clusters", params={"service": "ingest"}, headers=AUTH).json()
    assert [i["incidentId"] for i in got["incidents"]] == ["cl-1"]
