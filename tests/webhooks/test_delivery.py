"""Sinks misbehaving: Slack 429 with Retry-After and 500s, Grafana down, resolve before create,
permanent failures into dead letters and back out with ``llm-sre replay``."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alert_webhooks.delivery.slack import REPEAT_NOTE, WEBHOOK_UNCERTAIN
from llm_sre.cli import main
from llm_sre.processes import wait_until
from tests.fakes import Failure, FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import AUTH, metric, notification, resolved


def _incident(client: TestClient) -> dict:
    (item,) = client.get("/api/v1/incidents").json()["items"]
    return item


def test_slack_429_retry_after_is_honoured_and_500s_are_retried(
    client: TestClient, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    slack.failures.extend([Failure(429, {"Retry-After": "1"}, "rate_limited"), Failure(500, {}, "oops")])
    start = time.monotonic()
    client.post("/alertmanager", json=notification(), headers=AUTH)
    assert metric(client, "llm_sre_webhook_queue_depth") == 1  # held back ≥ 1 s by Retry-After
    wait_until(lambda: _incident(client)["delivered"], 15, what="delivery after 429 and 500")
    assert metric(client, "llm_sre_webhook_queue_depth") == 0
    assert metric(client, "llm_sre_webhook_processing_duration_seconds_count") == 1
    assert metric(client, 'llm_sre_webhook_processing_duration_seconds_bucket{le="0.5"}') == 0  # waited
    assert time.monotonic() - start >= 1.0  # the 429's Retry-After held the retry back
    assert len(slack.messages) == 1
    assert REPEAT_NOTE not in slack.messages[0]["text"]  # Slack answered each time: no doubt, no note
    assert len(grafana.annotations) == 1  # Grafana succeeded the first time and was not re-sent
    assert len([r for r in grafana.requests if r.method == "POST"]) == 1
    assert metric(client, 'llm_sre_webhook_delivery_retries_total{sink="slack"}') == 2
    assert metric(client, 'llm_sre_webhook_deliveries_total{outcome="success",sink="slack"}') == 1


def test_grafana_429_retry_after_is_honoured(
    client: TestClient, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    # grafana-client drops response headers; the notifier must still wait what Grafana asked.
    grafana.failures.append(Failure(429, {"Retry-After": "2"}, {"message": "Too many requests"}))
    start = time.monotonic()
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _incident(client)["delivered"], 15, what="delivery after Grafana's 429")
    assert time.monotonic() - start >= 2.0  # retry_max is 0.5 s here: only Retry-After explains the wait
    assert len(grafana.annotations) == 1
    assert metric(client, 'llm_sre_webhook_delivery_retries_total{sink="grafana"}') == 1


def test_grafana_down_then_back_and_a_resolve_while_the_create_is_pending(
    client: TestClient, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    grafana.failures.extend(Failure(503, {}, "down") for _ in range(4))
    body = notification()
    client.post("/alertmanager", json=body, headers=AUTH)
    client.post("/alertmanager", json=resolved(body), headers=AUTH)
    wait_until(lambda: _incident(client)["delivered"], 20, what="Grafana back")
    (annotation,) = grafana.annotations.values()
    assert annotation["timeEnd"] > annotation["time"]
    assert "llm-sre" in annotation["tags"] and "LLMErrorBurst" in annotation["tags"]
    assert _incident(client)["status"] == "resolved"
    # One message (if the worker first saw the incident resolved) or the message and its one
    # resolved follow-up; either way the last word in Slack is the resolution.
    assert len(slack.messages) in (1, 2) and "resolved" in slack.messages[-1]["text"].lower()


def test_permanent_failure_is_a_dead_letter_until_replayed(
    client: TestClient, grafana: FakeGrafana, tmp_path, monkeypatch
) -> None:
    grafana.failures.append(Failure(400, {}, {"message": "bad request"}))
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: metric(client, "llm_sre_webhook_dead_letters") == 1, 10, what="dead letter")
    assert not _incident(client)["delivered"]
    assert grafana.annotations == {}

    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path))
    assert main(["replay", "--dead-letters"]) == 0
    wait_until(lambda: _incident(client)["delivered"], 10, what="replayed delivery")
    assert len(grafana.annotations) == 1
    assert metric(client, "llm_sre_webhook_dead_letters") == 0


def test_a_4xx_is_permanent_and_retries_stop_after_max_attempts(make_client, slack: FakeSlackWebhook) -> None:
    client = make_client(
        slack_webhook_url=f"{slack.url}/services/T/B/x", grafana_url=slack.url, grafana_token="any"
    )
    # The fake Slack answers Grafana's API with a 400: permanent, straight to the dead letters.
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: metric(client, "llm_sre_webhook_dead_letters") == 1, 10, what="dead letter")
    assert metric(client, 'llm_sre_webhook_deliveries_total{outcome="dead_letter",sink="grafana"}') == 1
    assert metric(client, 'llm_sre_webhook_delivery_retries_total{sink="grafana"}') == 0


def test_retries_stop_after_max_attempts(make_client, slack: FakeSlackWebhook) -> None:
    client = make_client(slack_webhook_url=f"{slack.url}/services/T/B/x", delivery_max_attempts=3)
    slack.failures.extend(Failure(500) for _ in range(10))
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: metric(client, "llm_sre_webhook_dead_letters") == 1, 20, what="retries exhausted")
    assert metric(client, 'llm_sre_webhook_delivery_retries_total{sink="slack"}') == 2  # 3 attempts
    assert metric(client, 'llm_sre_webhook_deliveries_total{outcome="dead_letter",sink="slack"}') == 1
    assert metric(client, 'llm_sre_webhook_deliveries_total{outcome="success",sink="outbox"}') == 1
    assert len(slack.failures) == 7


def test_replay_reprocesses_an_archived_notification(
    client: TestClient, grafana: FakeGrafana, tmp_path, monkeypatch
):
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _incident(client)["delivered"], 10, what="delivery")
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path))
    assert main(["replay", "--notification", "1"]) == 0
    wait_until(lambda: _incident(client)["revision"] == 2 and _incident(client)["delivered"], 10)
    assert len([r for r in grafana.requests if r.method == "PATCH"]) == 1  # re-rendered, not re-created
    assert len(grafana.annotations) == 1
    assert main(["replay", "--notification", "99"]) == 1


def test_the_worker_survives_a_store_outage(client: TestClient, monkeypatch) -> None:
    store = client.app.state.service.store
    real_claim, failures = store.claim, []

    def flaky_claim(*args):
        if len(failures) < 3:
            failures.append(1)
            raise ConnectionError("store restarting")
        return real_claim(*args)

    monkeypatch.setattr(store, "claim", flaky_claim)
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _incident(client)["delivered"], 10, what="delivery after the outage")
    assert len(failures) == 3
    assert client.get("/readyz").status_code == 200


def test_webhook_blocks_slack_refuses_fall_back_to_text(client: TestClient, slack: FakeSlackWebhook) -> None:
    slack.failures.append(Failure(400, {}, "invalid_blocks"))
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: _incident(client)["delivered"], 10, what="text-only delivery")
    (sent,) = slack.messages
    assert "blocks" not in sent and "LLMErrorBurst" in sent["text"]


def test_a_permanently_broken_sink_does_not_cost_another_its_retries(
    make_client, slack: FakeSlackWebhook, grafana: FakeGrafana
) -> None:
    client = make_client(
        slack_webhook_url=f"{slack.url}/services/T/B/x", grafana_url=grafana.url, grafana_token="wrong"
    )
    slack.failures.append(Failure(500))  # transient, in the same attempt as Grafana's 401
    client.post("/alertmanager", json=notification(), headers=AUTH)
    wait_until(lambda: metric(client, "llm_sre_webhook_dead_letters") == 1, 20, what="dead letter")
    assert len(slack.messages) == 1  # Slack was retried and delivered before the job gave up


class SlowFirstSlack(FakeSlackWebhook):
    """Posts the first message but answers it only after the client has given up (a timeout after
    Slack accepted the POST: the case no webhook client can tell apart from a lost POST)."""

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        if len(self.requests) == 1:
            # The answer's latency, beyond the 1 s sink timeout. The fake serves requests under its
            # lock: let go of it meanwhile so the retry is answered at once.
            self.lock.release()
            try:
                time.sleep(2.0)
            finally:
                self.lock.acquire()
        return super().handle(method, path, headers, body)


@pytest.mark.parametrize("policy", ["resend", "skip"])
def test_a_webhook_post_that_timed_out_is_resent_as_a_possible_repeat_or_skipped(
    make_client, policy: str
) -> None:
    with SlowFirstSlack() as slack:
        client = make_client(
            slack_webhook_url=f"{slack.url}/services/T/B/x",
            sink_timeout_seconds=1,
            slack_webhook_uncertain=policy,
        )
        client.post("/alertmanager", json=notification(), headers=AUTH)
        wait_until(lambda: _incident(client)["delivered"], 15, what="delivery after the timeout")
        texts = [m["text"] for m in slack.messages]
    (slack_state,) = [d for d in _incident(client)["deliveries"] if d["sink"] == "slack"]
    if policy == "resend":  # at-least-once: the copy says it may be one
        assert len(texts) == 2 and REPEAT_NOTE not in texts[0] and texts[1].startswith(REPEAT_NOTE)
        assert slack_state["ref"] == "webhook"
    else:  # at-most-once: not re-sent, and the API shows the page may be lost
        assert len(texts) == 1
        assert slack_state["ref"] == WEBHOOK_UNCERTAIN
