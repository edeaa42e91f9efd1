"""Checklist results as metrics, and a Slack summary only when a check flips to FAIL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from operations.checklist import CheckResult
from operations.publish import publish, scheduled_run
from operations.settings import OperationsSettings
from operations.thresholds import Status
from tests.fakes import FakeSlackWebhook


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    with FakeSlackWebhook() as server:
        yield server


def _result(check: str, status: Status, note: str = "") -> CheckResult:
    return CheckResult("daily", check, status, "9.09%", "warn ≥ 0.01, fail ≥ 0.05",
                       "see the runbook" if status else "", note)


def test_statuses_are_exported_and_only_flips_to_fail_reach_slack(
    tmp_path: Path, slack: FakeSlackWebhook
) -> None:
    settings = OperationsSettings(data_dir=tmp_path, slack_webhook_url=f"{slack.url}/services/T0/B0/x")
    registry = CollectorRegistry()
    run = [_result("error_ratio", Status.FAIL, "<!channel> token=sk-abcdefghijklmnopqrstuvwx"),
           _result("traces_growing", Status.WARN), _result("webhook_ready", Status.PASS)]
    assert [r.check for r in asyncio.run(publish(run, settings, registry))] == ["error_ratio"]
    value = registry.get_sample_value
    assert value("llm_sre_check_status", {"checklist": "daily", "check": "error_ratio"}) == 2
    assert value("llm_sre_check_status", {"checklist": "daily", "check": "traces_growing"}) == 1
    assert value("llm_sre_check_status", {"checklist": "daily", "check": "webhook_ready"}) == 0
    assert value("llm_sre_checklist_last_run_timestamp_seconds", {"checklist": "daily"}) > 0
    (message,) = slack.messages
    assert message["text"].startswith("llm-sre daily checklist: 1 check(s) now FAIL")
    section = message["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt;" in section and "<!channel>" not in section  # escaped, no mass mention
    assert "sk-abcdefghijklmnopqrstuvwx" not in section

    assert asyncio.run(publish(run, settings, registry)) == []  # still failing: not posted again
    assert len(slack.messages) == 1
    asyncio.run(publish([_result("error_ratio", Status.PASS)], settings, registry))
    asyncio.run(publish([_result("error_ratio", Status.FAIL)], settings, registry))  # flips again
    assert len(slack.messages) == 2


def test_slack_down_loses_the_summary_not_the_run(tmp_path: Path) -> None:
    settings = OperationsSettings(data_dir=tmp_path, slack_webhook_url="http://127.0.0.1:9/services/x")
    flipped = asyncio.run(publish([_result("error_ratio", Status.FAIL)], settings, CollectorRegistry()))
    assert [r.check for r in flipped] == ["error_ratio"]


def test_schedules_come_from_valid_cron_settings(tmp_path: Path) -> None:
    settings = OperationsSettings(data_dir=tmp_path, weekly_cron="")
    assert settings.schedules() == {"daily": "0 8 * * *"}
    with pytest.raises(ValueError, match="'every day' is not a 5-field cron expression"):
        OperationsSettings(daily_cron="every day")


def test_a_scheduled_run_exports_its_results(tmp_path: Path) -> None:
    settings = OperationsSettings(data_dir=tmp_path, prometheus_url="http://127.0.0.1:9",
                                  alertmanager_url="http://127.0.0.1:9", webhook_url="http://127.0.0.1:9",
                                  ollama_host="http://127.0.0.1:9", check_timeout_seconds=2)
    registry = CollectorRegistry()
    fails = asyncio.run(scheduled_run("daily", settings, registry))
    assert fails >= 6  # every unreachable target
    labels = {"checklist": "daily", "check": "prometheus_targets"}
    assert registry.get_sample_value("llm_sre_check_status", labels) == 2


def test_serve_schedules_the_daily_and_weekly_checklists(tmp_path: Path, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from alert_webhooks.app import create_app
    from alert_webhooks.service import build_service
    from alert_webhooks.settings import Settings

    monkeypatch.setenv("LLM_SRE_CHECKLIST_DAILY_CRON", "30 6 * * *")
    monkeypatch.setenv("LLM_SRE_CHECKLIST_WEEKLY_CRON", "")  # empty: not scheduled
    settings = Settings(data_dir=tmp_path, analyst_backend="none")
    app = create_app(settings, build_service(settings))
    with TestClient(app):
        scheduler = app.state.scheduler
        assert "checklist-daily" in scheduler.jobs and "checklist-weekly" not in scheduler.jobs
        daily = scheduler.next_run("checklist-daily")
        assert (daily.hour, daily.minute) == (6, 30)
