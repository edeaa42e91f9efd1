"""POST /alertmanager: auth, validation, limits, idempotency — and the deliveries that follow."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from llm_sre.processes import wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import AUTH, TOKEN, notification, resolved


def _incidents(client: TestClient, **params: str) -> list[dict]:
    return client.get("/api/v1/incidents", params=params).json()["items"]


def _delivered(client: TestClient, status: str) -> bool:
    return any(i["status"] == status and i["delivered"] for i in _incidents(client))


def test_firing_then_resolved_makes_one_message_one_annotation_and_closes_the_region(
    client: TestClient, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    body = notification()
    assert client.post("/alertmanager", json=body, headers=AUTH).json()["status"] == "accepted"
    wait_until(lambda: _delivered(client, "firing"), 10, what="firing delivered")
    assert len(slack.messages) == 1
    assert "LLMErrorBurst" in slack.messages[0]["text"]
    (annotation,) = grafana.annotations.values()
    assert {"LLMErrorBurst", "critical", "svc-g1", "llm-sre"} <= set(annotation["tags"])
    assert annotation["time"] == 1795687200000  # 2026-11-26T10:00:00Z in ms: the region's start
    assert not annotation.get("timeEnd")

    client.post("/alertmanager", json=resolved(body), headers=AUTH)
    wait_until(lambda: _delivered(client, "resolved"), 10, what="resolved delivered")
    assert len(grafana.annotations) == 1
    assert annotation["timeEnd"] == 1795687500000  # endsAt 10:05
    assert {"LLMErrorBurst", "critical", "svc-g1", "llm-sre"} <= set(annotation["tags"])  # PATCH kept tags
    assert len(slack.messages) == 2 and "resolved" in slack.messages[1]["text"].lower()
    (incident,) = _incidents(client)
    assert incident["ends_at"].startswith("2026-11-26T10:05")


def test_same_notification_three_times_and_a_repeat_renotify_is_one_incident(
    client: TestClient, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    body = notification()
    answers = [client.post("/alertmanager", json=body, headers=AUTH).json()["status"] for _ in range(4)]
    assert answers == ["accepted", "duplicate", "duplicate", "duplicate"]
    wait_until(lambda: _delivered(client, "firing"), 10, what="delivered")
    # A new alert joining the group updates the same incident, still without a second message.
    grown = notification(alerts=2)
    assert client.post("/alertmanager", json=grown, headers=AUTH).json()["status"] == "accepted"
    wait_until(lambda: _incidents(client)[0]["revision"] == 2 and _delivered(client, "firing"), 10)
    assert len(_incidents(client)) == 1
    assert _incidents(client)[0]["alerts"] == 2
    assert len(slack.messages) == 1
    assert len(grafana.annotations) == 1
    assert len([r for r in grafana.requests if r.method == "POST"]) == 1
    metrics = client.get("/metrics").text
    assert 'llm_sre_webhook_notifications_total{outcome="duplicate"} 3.0' in metrics
    assert 'llm_sre_webhook_notifications_total{outcome="accepted"} 2.0' in metrics
    assert 'llm_sre_webhook_incidents_total{severity="critical"} 1.0' in metrics


def test_the_group_firing_again_after_resolution_is_a_new_incident(client: TestClient) -> None:
    body = notification()
    client.post("/alertmanager", json=body, headers=AUTH)
    client.post("/alertmanager", json=resolved(body), headers=AUTH)
    again = notification(starts="2026-11-26T12:00:00Z")
    client.post("/alertmanager", json=again, headers=AUTH)
    statuses = sorted(i["status"] for i in _incidents(client))
    assert statuses == ["firing", "resolved"]


def test_wrong_or_missing_token_is_401_and_basic_auth_password_works(client: TestClient) -> None:
    body = notification()
    assert client.post("/alertmanager", json=body, headers={"Authorization": ""}).status_code == 401
    assert (
        client.post("/alertmanager", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert (
        client.post("/alertmanager", content=b"{", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    basic = base64.b64encode(f"alertmanager:{TOKEN}".encode()).decode()
    assert (
        client.post("/alertmanager", json=body, headers={"Authorization": f"Basic {basic}"}).status_code
        == 200
    )
    assert client.post("/alertmanager", json=body, headers={"Authorization": "Basic !!"}).status_code == 401


def test_schema_errors_are_422_naming_the_field(client: TestClient) -> None:
    body = notification()
    del body["alerts"][0]["startsAt"]
    answer = client.post("/alertmanager", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["alerts", 0, "startsAt"]
    bad_version = {**notification(), "version": "3"}
    assert client.post("/alertmanager", json=bad_version, headers=AUTH).json()["detail"][0]["loc"] == [
        "version"
    ]
    malformed = client.post("/alertmanager", content=b'{"version": ', headers=AUTH)
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["type"] == "json_invalid"
    naive = notification()
    naive["alerts"][0]["startsAt"] = "2026-11-26T10:00:00"
    assert client.post("/alertmanager", json=naive, headers=AUTH).status_code == 422


def test_oversized_body_is_413_with_a_clear_message(make_client) -> None:
    client = make_client(max_body_bytes=2000)
    big = notification(description="x" * 5000)
    answer = client.post("/alertmanager", json=big, headers=AUTH)
    assert answer.status_code == 413
    assert "2000 bytes" in answer.json()["detail"]

    def chunks():  # no Content-Length: the limit must hold while streaming
        data = json.dumps(big).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    assert client.post("/alertmanager", content=chunks(), headers=AUTH).status_code == 413


def test_without_sinks_everything_goes_to_the_outbox(make_client, tmp_path) -> None:
    client = make_client()
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _delivered(client, "firing"), 10, what="outbox delivery")
    lines = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert sorted(line["sink"] for line in lines) == ["grafana", "slack"]
    slack_line = next(line for line in lines if line["sink"] == "slack")
    assert "LLMErrorBurst" in slack_line["payload"]["text"]
    metrics = client.get("/metrics").text
    assert 'llm_sre_webhook_deliveries_total{outcome="success",sink="outbox"} 2.0' in metrics


def test_a_dashboard_label_puts_the_annotation_on_that_panel(
    client: TestClient, grafana: FakeGrafana
) -> None:
    body = notification()
    body["commonLabels"]["grafana_dashboard_uid"] = "llm-overview"
    body["alerts"][0]["annotations"]["grafana_panel_id"] = "7"
    client.post("/alertmanager", json=body, headers=AUTH)
    wait_until(lambda: _delivered(client, "firing"), 10, what="delivery")
    (created,) = [r.body for r in grafana.requests if r.method == "POST"]
    assert created["dashboardUID"] == "llm-overview" and created["panelId"] == 7


def test_readyz_reports_a_broken_store(client: TestClient, monkeypatch) -> None:
    assert client.get("/readyz").json() == {"ready": True, "checks": {"store": True, "worker": True}}

    def broken() -> bool:
        raise OSError("disk gone")

    monkeypatch.setattr(client.app.state.service.store, "ping", broken)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["store"] is False
    assert client.get("/healthz").status_code == 200


def test_tags_fit_grafana_and_carry_the_incident(client: TestClient, grafana: FakeGrafana) -> None:
    client.post("/alertmanager", json=notification(alertname="A" * 300), headers=AUTH)
    wait_until(lambda: _delivered(client, "firing"), 10, what="delivery")
    (annotation,) = grafana.annotations.values()
    assert all(len(tag) <= 100 for tag in annotation["tags"])
    assert f"llm-sre-incident-{_incidents(client)[0]['id']}" in annotation["tags"]
