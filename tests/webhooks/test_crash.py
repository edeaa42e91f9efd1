"""The service SIGKILLed with 100 groups queued and deliveries in flight: after a restart every group
reaches each sink, Grafana exactly once (the incident tag lookup adopts a create whose answer was
lost) and Slack at most once more than the deliveries that were in flight at the kill."""

from __future__ import annotations

import collections
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from llm_sre.processes import ManagedProcess, free_port, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import AUTH, TOKEN, notification, sink_env

pytestmark = pytest.mark.e2e

GROUPS = 100
CONCURRENCY = 4


class SlowSlack(FakeSlackWebhook):
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        time.sleep(0.01)  # a real round trip, so the kill lands mid-delivery
        return super().handle(method, path, headers, body)


def serve(tmp_path: Path, port: int, env: dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        "webhook",
        [
            str(Path(sys.executable).with_name("llm-sre")),
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        tmp_path / "webhook.log",
        env={
            "LLM_SRE_DATA_DIR": str(tmp_path / "data"),
            "LLM_SRE_WEBHOOK_TOKEN": TOKEN,
            "LLM_SRE_WORKER_CONCURRENCY": str(CONCURRENCY),
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
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status


def delivered(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/incidents?limit=500", timeout=5) as resp:
        return sum(1 for i in json.load(resp)["items"] if i["delivered"])


def test_sigkill_mid_delivery_then_restart_delivers_every_group_once(tmp_path: Path) -> None:
    with SlowSlack() as slack, FakeGrafana("glsa_testFakeServiceAccountToken_0123456789abcdef") as grafana:
        env = sink_env(slack, grafana)
        port = free_port()
        service = serve(tmp_path, port, env)
        try:
            for n in range(GROUPS):
                assert post(port, notification(group=f"g{n}")) == 200
            wait_until(lambda: len(slack.messages) >= 20, 30, 0.01, what="some deliveries before the kill")
            service.kill()
            at_kill = len(slack.messages)
            assert at_kill < GROUPS, "everything was delivered before the kill: nothing was tested"
            service = serve(tmp_path, port, env)
            wait_until(lambda: delivered(port) == GROUPS, 60, 0.2, what="every group delivered after restart")
        finally:
            service.stop()

        per_group = collections.Counter(m["text"].split("svc-")[1].split(":")[0] for m in slack.messages)
        assert set(per_group) == {f"g{n}" for n in range(GROUPS)}
        duplicates = sum(per_group.values()) - GROUPS
        print(f"killed after {at_kill} Slack messages; Slack duplicates after restart: {duplicates}")
        assert duplicates <= CONCURRENCY  # only a POST in flight at the kill can repeat

        tags = collections.Counter(
            t for a in grafana.annotations.values() for t in a["tags"] if t.startswith("llm-sre-incident-")
        )
        assert len(tags) == GROUPS and set(tags.values()) == {1}  # exactly one annotation per incident
        assert len(grafana.annotations) == GROUPS
