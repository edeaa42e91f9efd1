"""The shipped Alertmanager config: routes (amtool) and inhibition (a real Alertmanager)."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from llm_sre import processes, render, rules_cli

AM = rules_cli.ALERTMANAGER
WARNING_ROUTE = '{severity=~"warning|info"}'


def _route(*labels: str) -> tuple[list[str], str]:
    """(receivers, the matching route's line in the tree) amtool resolves for ``labels``."""
    amtool = processes.require("amtool")
    argv = [amtool, "config", "routes", "test", f"--config.file={AM}", "--tree", *labels]
    lines = [line for line in rules_cli.Check("route", tuple(argv)).run().stdout.splitlines() if line.strip()]
    leaf = next(line for line in reversed(lines) if "receiver:" in line)
    return lines[-1].split(","), leaf.split("── ", 1)[1]


@pytest.mark.parametrize(
    ("labels", "route"),
    [
        (("alertname=LLMErrorBurst", "severity=critical", "service=llm-app"), '{severity="critical"}'),
        (("alertname=RAGEmptyRetrievals", "severity=warning", "service=llm-app"), WARNING_ROUTE),
        (("alertname=Custom", "severity=info"), WARNING_ROUTE),
        (("alertname=NoSeverity", "service=llm-app"), "default-route"),
    ],
)
def test_every_route_delivers_to_the_llm_sre_webhook(labels: tuple[str, ...], route: str) -> None:
    receivers, leaf = _route(*labels)
    assert receivers == ["llm-sre"]
    assert leaf == f"{route}  receiver: llm-sre"


def test_the_watchdog_goes_to_the_heartbeat_receiver_and_never_to_the_webhook() -> None:
    receivers, leaf = _route("alertname=Watchdog", "severity=none", "service=llm-sre")
    assert receivers == ["heartbeat"]
    assert leaf == '{alertname="Watchdog"}  receiver: heartbeat'
    doc = yaml.safe_load(AM.read_text())
    (route,) = [r for r in doc["route"]["routes"] if r["receiver"] == "heartbeat"]
    assert not route.get("continue") and route["repeat_interval"] == route["group_interval"] == "1m"
    heartbeat = next(r for r in doc["receivers"] if r["name"] == "heartbeat")
    assert heartbeat == {"name": "heartbeat"}  # a null receiver until the team points it somewhere


def test_webhook_receiver_uses_bearer_token_file_and_sends_resolved() -> None:
    doc = yaml.safe_load(AM.read_text())
    assert doc["route"]["group_by"] == ["alertname", "service"]
    (hook,) = next(r for r in doc["receivers"] if r["name"] == "llm-sre")["webhook_configs"]
    assert hook["send_resolved"] is True
    assert hook["url"] == "http://webhook:8080/alertmanager"
    assert hook["http_config"]["authorization"] == {
        "type": "Bearer", "credentials_file": "/etc/alertmanager/secrets/webhook_token",
    }


def test_commented_slack_receiver_is_a_valid_config_once_uncommented(tmp_path: Path) -> None:
    lines = AM.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# - name: slack-direct")
    block = "\n".join(line.replace("# ", "", 1) for line in lines[start:] if line.strip().startswith("#"))
    doc = yaml.safe_load(AM.read_text())
    doc["receivers"] += yaml.safe_load(block)
    doc["route"]["routes"].insert(0, {"matchers": ['severity="critical"'], "receiver": "slack-direct",
                                      "continue": True})
    path = tmp_path / "am.yml"
    path.write_text(yaml.safe_dump(doc))
    result = rules_cli.Check("check", (processes.require("amtool"), "check-config", str(path))).run()
    assert result.returncode == 0, result.stdout + result.stderr
    receivers, _ = _route("severity=critical")  # the shipped file itself still routes only to llm-sre
    assert receivers == ["llm-sre"]


# --- inhibition, on a real Alertmanager ------------------------------------------------------------


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped config on loopback, its webhook pointed at a closed port (only muting matters)."""
    tmp = tmp_path_factory.mktemp("am")
    token = tmp / "token"
    token.write_text("t")
    doc = render.alertmanager_config(yaml.safe_load(AM.read_text()),
                                     webhook_url=f"http://127.0.0.1:{processes.free_port()}/alertmanager",
                                     token_file=token)
    (tmp / "am.yml").write_text(yaml.safe_dump(doc))
    port = processes.free_port()
    proc = processes.alertmanager(tmp / "am.yml", tmp / "data", port, tmp).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def _post(url: str, alerts: list[dict[str, str]]) -> None:
    now = datetime.now(UTC)
    body = [{"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
            for labels in alerts]
    request = urllib.request.Request(f"{url}/api/v2/alerts", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200


def _states(url: str, scenario: str) -> dict[str, str]:
    query = urllib.parse.urlencode({"filter": f'scenario="{scenario}"'})
    with urllib.request.urlopen(f"{url}/api/v2/alerts?{query}", timeout=5) as resp:
        return {a["labels"]["alertname"]: a["status"]["state"] for a in json.load(resp)}


def _settled(url: str, scenario: str, expected: dict[str, str]) -> dict[str, str]:
    """Poll until Alertmanager reports ``expected`` (the inhibitor caches sources asynchronously)."""
    seen: dict[str, str] = {}

    def done() -> bool:
        seen.update(_states(url, scenario))
        return seen == expected

    # On timeout the caller's assertion shows the states that were reached instead.
    with contextlib.suppress(TimeoutError):
        processes.wait_until(done, timeout=10, what=f"inhibition states of {scenario}")
    return seen


@pytest.mark.e2e
def test_a_critical_alert_silences_warnings_of_the_same_service_only(alertmanager: str) -> None:
    s = {"scenario": "critical"}
    expected = {
        "LLMErrorBurst": "active",
        "RAGRetrievalErrors": "active",  # criticals never silence each other
        "LLMLatencyHigh": "suppressed",
        "RAGEmptyRetrievals": "active",  # another service
        "Watchdog": "active",  # the heartbeat is never muted, whatever else fires
    }
    _post(alertmanager, [
        {**s, "alertname": "Watchdog", "severity": "none", "service": "app-a"},
        {**s, "alertname": "LLMErrorBurst", "severity": "critical", "service": "app-a"},
        {**s, "alertname": "LLMLatencyHigh", "severity": "warning", "service": "app-a"},
        {**s, "alertname": "RAGEmptyRetrievals", "severity": "warning", "service": "app-b"},
        {**s, "alertname": "RAGRetrievalErrors", "severity": "critical", "service": "app-a"},
    ])
    assert _settled(alertmanager, "critical", expected) == expected


@pytest.mark.e2e
def test_target_down_silences_its_jobs_alerts_and_is_never_silenced(alertmanager: str) -> None:
    s = {"scenario": "target"}
    expected = {
        "TargetDown": "active",  # a critical of its own service does not hide it
        "ContainerOOMKilled": "suppressed",  # same job: computed from the down exporter's series
        "OllamaModelNotLoaded": "suppressed",
        "WebhookDeliveryBudgetBurn": "active",  # no job label: not a dependant
    }
    _post(alertmanager, [
        {**s, "alertname": "TargetDown", "severity": "warning", "job": "exporter-t", "service": "exp-t"},
        {**s, "alertname": "ContainerOOMKilled", "severity": "critical", "job": "exporter-t",
         "service": "exp-t"},
        {**s, "alertname": "OllamaModelNotLoaded", "severity": "warning", "job": "exporter-t",
         "service": "ollama-t"},
        {**s, "alertname": "WebhookDeliveryBudgetBurn", "severity": "critical", "service": "exp-t"},
    ])
    assert _settled(alertmanager, "target", expected) == expected
