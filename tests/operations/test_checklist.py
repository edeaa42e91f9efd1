"""The three checklists against real Prometheus, Alertmanager and the webhook app, and model-server
stand-ins speaking Ollama's and the OpenAI API's wire format."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from llm_sre.cli import main
from operations.checklist import CheckResult, exit_code, render, run_checklist
from operations.settings import OperationsSettings
from operations.thresholds import ChecklistFile, Status
from tests.exporters.fake_ollama import FakeOllama, loaded, pulled
from tests.exporters.fake_openai import FakeOpenAI
from tests.operations.conftest import DAY, History

pytestmark = pytest.mark.e2e


def _settings(tmp_path: Path, **kw: object) -> OperationsSettings:
    base = {"data_dir": tmp_path / "data", "prometheus_url": "http://127.0.0.1:9", "check_timeout_seconds": 3,
            "alertmanager_url": "http://127.0.0.1:9", "webhook_url": "http://127.0.0.1:9",
            "ollama_host": "http://127.0.0.1:9"}
    return OperationsSettings(**{**base, **kw})


def _run(name: str, settings: OperationsSettings, config: ChecklistFile | None = None,
         now: float | None = None) -> dict[str, CheckResult]:
    results = asyncio.run(run_checklist(name, settings, config or ChecklistFile(), now=now))
    return {r.check: r for r in results}


def _traces(settings: OperationsSettings, age: float = 0) -> Path:
    settings.traces.mkdir(parents=True, exist_ok=True)
    path = settings.traces / "llm_calls.jsonl"
    path.write_text('{"event": "llm.call"}\n')
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def _post_alert(url: str, name: str, severity: str) -> None:
    now = datetime.now(UTC)
    body = [{"labels": {"alertname": name, "severity": severity, "service": "app"},
             "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}]
    httpx.post(f"{url}/api/v2/alerts", json=body, timeout=5).raise_for_status()


def test_daily_passes_on_a_healthy_stack(tmp_path: Path, history: History, alertmanager: str, webhook: str,
                                         ollama: FakeOllama) -> None:
    settings = _settings(tmp_path, prometheus_url=history.url, alertmanager_url=alertmanager,
                         webhook_url=webhook, ollama_host=ollama.url)
    ollama.ps = [loaded("qwen2.5:7b", 4_000_000_000)]
    _traces(settings)
    # The free-disk levels at 0: this machine's disk is not what is under test.
    config = ChecklistFile(endpoints=[{"name": "api", "url": f"{webhook}/healthz"}],
                           limits={"data_dir_free_ratio": {"warn": 0, "fail": 0}})
    results = _run("daily", settings, config, now=history.quiet)
    assert {name: r.status for name, r in results.items() if r.status is not Status.PASS} == {}
    assert results["error_ratio"].value == "0.00%"
    assert results["prometheus_targets"].value == "0 of 2 down"
    assert results["endpoints"].value == "1/1 answered"
    assert results["webhook_dead_letters"].value == "0 dead letters"
    assert results["model_loaded"].value == "1 loaded, 3.7 GiB"
    assert exit_code(list(results.values())) == 0


def test_daily_fails_with_the_measured_value_threshold_and_remedy(
    tmp_path: Path, history: History, alertmanager: str, webhook: str, ollama: FakeOllama
) -> None:
    settings = _settings(tmp_path, prometheus_url=history.url, alertmanager_url=alertmanager,
                         webhook_url=webhook, ollama_host=ollama.url)
    ollama.ps = [loaded("llama3.1:8b", 5_000_000_000)]
    _traces(settings, age=3 * DAY)
    _post_alert(alertmanager, "LLMErrorBurst", "critical")
    config = ChecklistFile(endpoints=[{"name": "ui", "url": f"{webhook}/nope"}],
                           limits={"model_memory_bytes": {"warn": 1e9}})
    results = _run("daily", settings, config, now=history.end)

    errors = results["error_ratio"]  # 1 timeout per 10 good calls over the last 24 h
    assert (errors.status, errors.value) == (Status.FAIL, "9.09%")
    assert errors.threshold == "warn ≥ 0.01, fail ≥ 0.05"
    assert "error_type" in errors.remedy
    assert (results["timeout_ratio"].status, results["timeout_ratio"].value) == (Status.FAIL, "9.09%")
    targets = results["prometheus_targets"]
    assert (targets.status, targets.value, targets.note) == (Status.FAIL, "1 of 2 down", "app@app:8000")
    alerts = results["alerts_firing"]
    assert alerts.status is Status.FAIL and "LLMErrorBurst (critical)" in alerts.note
    assert results["traces_growing"].status is Status.FAIL
    assert results["traces_growing"].value.startswith("last write 43")  # ~3 days, in minutes
    assert (results["endpoints"].status, results["endpoints"].note) == (Status.FAIL, "ui: HTTP 404")
    model = results["model_loaded"]
    assert model.status is Status.WARN
    assert model.note == "qwen2.5:7b is not loaded: the next request pays the load time"
    text = render(list(results.values()))
    assert "FAIL  error_ratio" in text and "threshold: warn ≥ 0.01, fail ≥ 0.05" in text


def test_weekly_compares_this_week_with_the_last(tmp_path: Path, history: History) -> None:
    settings = _settings(tmp_path, prometheus_url=history.url)
    store = settings.data_dir / "chroma"
    store.mkdir(parents=True)
    (store / "chroma.sqlite3").write_bytes(b"x" * 1000)
    old = _traces(settings)
    os.utime(old, (time.time() - 40 * DAY,) * 2)
    first = _run("weekly", settings, now=history.end)
    rag = first["rag_hit_rate"]  # 90 % last week, 60 % this week: below 0.7 and a 30-point fall
    assert (rag.status, rag.value) == (Status.FAIL, "60.0% (last week 90.0%)")
    cache = first["cache_hit_rate"]
    assert (cache.status, cache.value) == (Status.PASS, "80.0% (last week 80.0%)")
    assert first["rerank_rate"].status is Status.PASS
    assert first["vector_store_growth"].note == "growth: first measurement, baseline recorded"
    retention = first["trace_retention"]
    assert retention.status is Status.WARN
    assert retention.value.startswith("1 uncompressed files older than 30 d")

    (store / "chroma.sqlite3").write_bytes(b"x" * 2000)  # doubled in a day: +700 %/week
    second = _run("weekly", settings, now=history.end + DAY)
    growth = second["vector_store_growth"]
    assert (growth.status, growth.value) == (Status.WARN, "2.0 KiB, +700.0%/week")


def test_deploy_checks_variables_index_model_and_the_smoke_answer(
    tmp_path: Path, ollama: FakeOllama, openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, ollama_host=ollama.url)
    monkeypatch.setenv("CHROMA_DIR", "/data/chroma")
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    docs, index = settings.data_dir / "docs", settings.data_dir / "chroma"
    docs.mkdir(parents=True)
    index.mkdir(parents=True)
    (index / "chroma.sqlite3").write_text("index")
    (docs / "faq.md").write_text("new answer")  # written after the index
    os.utime(index / "chroma.sqlite3", (time.time() - 3600,) * 2)
    ollama.tags = [pulled("qwen2.5:7b")]
    smoke = {"url": f"{openai.url}/chat/completions", "field": "choices.0.message.content", "expect": "Hello",
             "body": {"model": "qwen2.5-7b-instruct", "messages": [{"role": "user", "content": "hi"}]}}
    config = ChecklistFile(required_env=["CHROMA_DIR", "OLLAMA_BASE_URL"], smoke=smoke)
    results = _run("deploy", settings, config)
    env = results["environment"]
    assert (env.status, env.note) == (Status.FAIL, "unset: OLLAMA_BASE_URL")
    assert "/data/chroma" not in json.dumps([r.as_dict() for r in results.values()])  # names, never values
    assert results["reindexed"].status is Status.FAIL
    assert results["model_tag"].status is Status.PASS
    assert results["smoke_query"].status is Status.PASS and "'Hello there'" in results["smoke_query"].value

    os.utime(index / "chroma.sqlite3")  # re-indexed now
    wrong = ChecklistFile(smoke={**smoke, "expect": "Goodbye"}, model="llama3.1:8b")
    results = _run("deploy", settings, wrong)
    assert results["reindexed"].status is Status.PASS
    tag = results["model_tag"]
    assert (tag.status, tag.note) == (Status.FAIL, "`ollama pull llama3.1:8b`")
    smoke_result = results["smoke_query"]
    assert smoke_result.status is Status.FAIL and smoke_result.note == "expected 'Goodbye' in the answer"
    no_field = ChecklistFile(smoke={**smoke, "field": "choices.0.text"})
    missing = _run("deploy", settings, no_field)["smoke_query"]
    assert missing.status is Status.FAIL and "answer has no `choices.0.text`" in missing.note


def test_an_openai_compatible_server_is_checked_through_v1_models(tmp_path: Path, openai: FakeOpenAI) -> None:
    settings = _settings(tmp_path, model_server="openai", openai_base_url=openai.url,
                         openai_model="qwen2.5-7b-instruct")
    assert _run("deploy", settings)["model_tag"].status is Status.PASS
    openai.models = ["other"]
    daily = _run("daily", settings)["model_loaded"]
    assert (daily.status, daily.value) == (Status.FAIL, "serving other")


def test_unreachable_targets_are_fail_lines_with_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path))
    for var in ("PROMETHEUS_URL", "LLM_SRE_ALERTMANAGER_URL", "LLM_SRE_WEBHOOK_URL", "OLLAMA_HOST"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    textfile = tmp_path / "checklist.prom"
    assert main(["checklist", "daily", "--json", "--textfile", str(textfile)]) == 1
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)}
    assert 'llm_sre_check_status{check="alerts_firing",checklist="daily"} 2.0' in textfile.read_text()
    for check in ("webhook_ready", "prometheus_targets", "alerts_firing", "model_loaded", "error_ratio"):
        assert results[check]["status"] == "FAIL", check
        assert "127.0.0.1:9" in results[check]["note"] and "ConnectError" in results[check]["note"]
        assert results[check]["remedy"]
