"""Silenced and inhibited alerts against a real Alertmanager 0.25 and ``llm-sre serve``.

Alertmanager leaves muted alerts out of a group's notifications and then sends the group as
``resolved`` with only the others. The incident must close with the group, and the group's next
outage must be a new incident that is posted to Slack again (issue 11, item 1). The config is the
shipped one (its inhibit rule: TargetDown mutes every other alert of its job), with short timings.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_sre import processes, render
from llm_sre.processes import ManagedProcess, free_port, wait_until
from tests.fakes import FakeSlackWebhook
from tests.webhooks.conftest import TOKEN, incidents, serve

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _alert(instance: str, job: str, ends: datetime, alertname: str = "LLMErrorBurst") -> dict[str, Any]:
    labels = {"alertname": alertname, "service": "llm-app", "severity": "critical", "instance": instance}
    return {"labels": {**labels, "job": job}, "startsAt": _stamp(START), "endsAt": _stamp(ends)}


START = datetime.now(UTC) - timedelta(minutes=5)
LATER = datetime.now(UTC) + timedelta(hours=1)


class Alertmanager:
    def __init__(self, port: int) -> None:
        self.api = f"http://127.0.0.1:{port}/api/v2"

    def _post(self, path: str, body: Any) -> None:
        req = urllib.request.Request(
            f"{self.api}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        urllib.request.urlopen(req, timeout=10).close()

    def alerts(self, *alerts: dict[str, Any]) -> None:
        self._post("/alerts", list(alerts))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Alertmanager, FakeSlackWebhook, int]]:
    with FakeSlackWebhook() as slack:
        port = free_port()
        webhook = serve(tmp_path, port, {"SLACK_WEBHOOK_URL": f"{slack.url}/services/T000/B000/muted"})
        token_file = tmp_path / "webhook_token"
        token_file.write_text(TOKEN)
        config = render.alertmanager_config(
            yaml.safe_load((REPO / "provisioning/alertmanager/alertmanager.yml").read_text()),
            webhook_url=f"http://127.0.0.1:{port}/alertmanager",
            token_file=token_file,
            group_wait="1s",
            group_interval="1s",
        )
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
        am_port = free_port()
        am: ManagedProcess = processes.alertmanager(
            tmp_path / "alertmanager.yml", tmp_path / "am-data", am_port, tmp_path
        ).start()
        try:
            yield Alertmanager(am_port), slack, port
        finally:
            am.stop()
            webhook.stop()


def _firing_posts(slack: FakeSlackWebhook) -> list[dict[str, Any]]:
    return [m for m in slack.messages if "LLMErrorBurst" in m["text"] and "resolved" not in m["text"].lower()]


def test_an_inhibited_alert_does_not_keep_the_incident_open_and_the_next_outage_posts(stack) -> None:
    am, slack, port = stack
    # Two alerts in one group (alertname, service); only "a" belongs to the job TargetDown will hit.
    am.alerts(_alert("a", "llm-app", LATER), _alert("b", "llm-gateway", LATER))
    def both_delivered() -> list[dict[str, Any]]:
        return [i for i in incidents(port) if i["status"] == "firing" and i["alerts"] == 2 and i["delivered"]]

    first = wait_until(
        both_delivered,
        30,
        what="the first incident delivered with both alerts",
    )[0]
    assert len(_firing_posts(slack)) == 1

    # TargetDown{job=llm-app} inhibits "a" (the shipped rule); then "b" resolves. Alertmanager now
    # sends the group as resolved with "b" only.
    target_down = {
        "labels": {"alertname": "TargetDown", "job": "llm-app", "severity": "critical", "service": "llm-app"},
        "startsAt": _stamp(START),
        "endsAt": _stamp(LATER),
    }
    am.alerts(target_down, _alert("b", "llm-gateway", datetime.now(UTC)))
    closed = wait_until(
        lambda: [i for i in incidents(port) if i["id"] == first["id"] and i["status"] == "resolved"],
        30,
        what="the group's resolve (with the inhibited alert left out) to close the incident",
    )[0]
    assert closed["ends_at"] is not None

    # The next outage of the same group: a new alert fires. It is a new incident and is posted.
    am.alerts(_alert("c", "llm-gateway", LATER))
    second = wait_until(
        lambda: [
            i
            for i in incidents(port)
            if i["id"] != first["id"] and i["alertname"] == "LLMErrorBurst" and i["delivered"]
        ],
        30,
        what="a new incident for the group's next outage",
    )[0]
    assert second["status"] == "firing"
    wait_until(lambda: len(_firing_posts(slack)) == 2, 15, what="the new incident posted to Slack")
