"""The shipped provisioning files, and their loopback renderings, pass the real tools' checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from llm_sre import render
from llm_sre.stack import REPO, Stack, StackOptions

PROMETHEUS_YML = REPO / "provisioning/prometheus/prometheus.yml"
ALERTMANAGER_YML = REPO / "provisioning/alertmanager/alertmanager.yml"


def _check(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_prometheus_config_is_valid() -> None:
    _check("promtool", "check", "config", "--syntax-only", str(PROMETHEUS_YML))


def test_shipped_alertmanager_config_is_valid() -> None:
    _check("amtool", "check-config", str(ALERTMANAGER_YML))


def test_shipped_alert_rules_are_valid() -> None:
    files = sorted(str(p) for p in (REPO / "rules").rglob("*.yml") if "tests" not in p.parts)
    assert files
    _check("promtool", "check", "rules", *files)


def test_loopback_rendering_passes_promtool_and_amtool(tmp_path: Path) -> None:
    stack = Stack(
        StackOptions(
            state_dir=tmp_path,
            prometheus_port=0,
            alertmanager_port=0,
            webhook_port=0,
            exporter_port=0,
            app_target="127.0.0.1:1",
        )
    )
    stack.write_configs()
    prom = yaml.safe_load((stack.config_dir / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert set(jobs) == {"llm-sre-exporter", "llm-sre-webhook", "prometheus", "alertmanager", "llm-app"}
    assert jobs["llm-app"]["static_configs"] == [
        {"targets": ["127.0.0.1:1"], "labels": {"service": "llm-app"}}
    ]
    _check("promtool", "check", "config", str(stack.config_dir / "prometheus.yml"))

    am = yaml.safe_load((stack.config_dir / "alertmanager.yml").read_text())
    hook = am["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == f"{stack.url('webhook')}/alertmanager"
    assert hook["send_resolved"] is True
    token_file = Path(hook["http_config"]["authorization"]["credentials_file"])
    assert token_file.read_text() == stack.token
    assert token_file.stat().st_mode & 0o077 == 0  # the token is readable by its owner only
    _check("amtool", "check-config", str(stack.config_dir / "alertmanager.yml"))


def test_group_timings_override_reaches_child_routes_that_set_their_own() -> None:
    doc = {
        "route": {
            "group_wait": "30s",
            "routes": [{"group_wait": "1m", "routes": [{"group_wait": "2m"}]}, {"receiver": "x"}],
        },
        "receivers": [{"name": "r", "webhook_configs": [{"url": "http://webhook:8080/alertmanager"}]}],
    }
    out = render.alertmanager_config(
        doc, webhook_url="http://127.0.0.1:1/alertmanager", token_file=Path("/t"), group_wait="1s"
    )
    route = out["route"]
    assert route["group_wait"] == "1s"
    assert route["routes"][0]["group_wait"] == "1s"
    assert route["routes"][0]["routes"][0]["group_wait"] == "1s"
    assert "group_wait" not in route["routes"][1]  # inherits from the root, as before
    assert doc["route"]["group_wait"] == "30s"  # the input is not modified


def test_rendering_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="no scrape job named"):
        render.prometheus_config(
            {"scrape_configs": []},
            targets={"x": "h:1"},
            rule_files=[],
            alertmanager="h:2",
            scrape_interval="1s",
            evaluation_interval="1s",
        )
    with pytest.raises(ValueError, match="no webhook receiver"):
        render.alertmanager_config(
            {"receivers": []}, webhook_url="http://h/alertmanager", token_file=Path("/t")
        )
