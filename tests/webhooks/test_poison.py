"""Poison jobs (issue 11, item 2) and dead letters by cause (issue 18, item 5).

Any exception a job raises is an attempt: it ends in the dead-letter queue with its reason and its
cause, shows in ``llm-sre replay`` with counts by cause and in the metric, and can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alert_webhooks.delivery import DeliveryError, PermanentDeliveryError, cause_of
from exporters.loki import retry_after
from llm_sre.cli import main
from llm_sre.processes import wait_until
from tests.fakes import Failure, FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import metric, notification, sink_settings


@pytest.mark.parametrize(
    ("field", "value"),
    [("startsAt", "0001-01-01T00:00:00+01:00"), ("endsAt", "0001-01-01T00:00:00+01:00"),
     ("startsAt", "0001-01-01T00:00:00Z")],
)
def test_timestamps_out_of_range_are_422_naming_the_field(client: TestClient, field: str, value: str) -> None:
    body = notification()
    body["alerts"][0][field] = value
    resp = client.post("/alertmanager", json=body)
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.json()["detail"]] == [["alerts", 0, field]]


def test_go_zero_time_as_ends_at_is_accepted(client: TestClient) -> None:
    body = notification()
    body["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"  # what Alertmanager sends for some firing alerts
    assert client.post("/alertmanager", json=body).status_code == 200


@pytest.fixture
def strict(
    make_client: Callable[..., TestClient], slack: FakeSlackWebhook, grafana: FakeGrafana
) -> TestClient:
    return make_client(**sink_settings(slack, grafana), delivery_max_attempts=2)


def test_a_job_that_raises_anything_is_dead_lettered_as_a_local_bug_and_replayable(
    strict: TestClient,
    grafana: FakeGrafana,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Grafana answers a create without the annotation id: the notifier raises KeyError, not a
    # DeliveryError. Such exceptions used to be retried with every lease, forever (issue 11).
    created_without_id = Failure(200, {"Content-Type": "application/json"}, '{"message": "Annotation added"}')
    grafana.failures.extend([created_without_id] * 40)
    body = notification(grafana_dashboard_uid="llm-app")
    incident_id = strict.post("/alertmanager", json=body).json()["incident_id"]
    wait_until(
        lambda: metric(strict, 'llm_sre_webhook_dead_lettered_total{cause="local_bug"}') == 1,
        15,
        what="the poison job dead-lettered",
    )
    assert metric(strict, "llm_sre_webhook_dead_letters") == 1
    assert metric(strict, 'llm_sre_webhook_deliveries_total{outcome="dead_letter",sink="grafana"}') == 1
    assert grafana.annotations == {}

    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path))
    assert main(["replay"]) == 0
    listing = capsys.readouterr().out
    assert f"{incident_id}\tlocal_bug\tattempts=2\tgrafana: KeyError" in listing
    assert "1 dead letter(s) (local_bug=1)" in listing
    assert main(["replay", "--dead-letters"]) == 0
    assert "re-queued 1" in capsys.readouterr().out
    # Replayed, it fails again the same way: back in the queue of dead letters, not lost.
    wait_until(
        lambda: metric(strict, 'llm_sre_webhook_dead_lettered_total{cause="local_bug"}') == 2,
        15,
        what="the replayed job dead-lettered again",
    )


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (Failure(429, {"Retry-After": "0"}, "rate_limited"), "rate_limited"),
        (Failure(503, {}, "down"), "server_error"),
        (Failure(413, {}, "too large"), "rejected"),
    ],
)
def test_slack_failures_are_dead_lettered_by_cause(
    strict: TestClient, slack: FakeSlackWebhook, failure: Failure, cause: str
) -> None:
    slack.failures.extend([failure, failure])
    strict.post("/alertmanager", json=notification())
    wait_until(
        lambda: metric(strict, f'llm_sre_webhook_dead_lettered_total{{cause="{cause}"}}') == 1,
        15,
        what=f"a {cause} dead letter",
    )


def test_retry_after_with_a_non_ascii_digit_is_ignored_not_a_crash() -> None:
    assert retry_after("²") is None and retry_after("٣") is None
    assert retry_after("3") == 3.0


def test_cause_of_classifies_every_failure() -> None:
    assert cause_of(DeliveryError("slack post: HTTP 429")) == "rate_limited"
    assert cause_of(DeliveryError("grafana: GrafanaServerError 503")) == "server_error"
    assert cause_of(DeliveryError("slack post: TimeoutError")) == "network"
    assert cause_of(DeliveryError("grafana: GrafanaTimeoutError None")) == "network"
    assert cause_of(PermanentDeliveryError("grafana: HTTP 401")) == "rejected"
    assert cause_of(OverflowError("date value out of range")) == "local_bug"


def test_a_panel_id_that_only_looks_like_digits_is_ignored(
    strict: TestClient, grafana: FakeGrafana
) -> None:
    # "²".isdigit() is True but int("²") raises: the annotation goes to the dashboard, no panel.
    strict.post("/alertmanager", json=notification(grafana_panel_id="²", grafana_dashboard_uid="llm-app"))
    wait_until(lambda: len(grafana.annotations) == 1, 15, what="the annotation")
    (annotation,) = grafana.annotations.values()
    assert annotation["dashboardUID"] == "llm-app" and annotation.get("panelId") is None
