"""Log lines → `llm-sre logs export` → real Prometheus → the shipped incident alerts fire.

The exporter runs as its own process following a log file; Prometheus scrapes it and evaluates
``rules/alerts/incidents.yml`` unchanged, so this checks the series names, labels and counting
semantics the alerts depend on, not just the exposition text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from llm_sre.processes import ManagedProcess, free_port, prometheus, wait_until

pytestmark = pytest.mark.e2e

RULES = Path(__file__).resolve().parents[2] / "rules" / "alerts" / "incidents.yml"


def query(base: str, path: str, **params: str) -> dict:
    return httpx.get(f"{base}{path}", params=params, timeout=5).raise_for_status().json()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    log = tmp_path / "app.log"
    log.touch()
    exporter_port, prom_port = free_port(), free_port()
    exporter = ManagedProcess(
        "log-exporter",
        [
            sys.executable,
            "-m",
            "llm_sre.cli",
            "logs",
            "export",
            "--file",
            f"rag-api={log}",
            "--port",
            str(exporter_port),
        ],
        tmp_path / "logs" / "exporter.log",
        env={"LLM_SRE_DATA_DIR": str(tmp_path / "data"), "LLM_SRE_LOG_POLL_SECONDS": "0.2"},
        ready_url=f"http://127.0.0.1:{exporter_port}/metrics",
    ).start()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs: [{job_name: logs, static_configs: "
        f"[{{targets: ['127.0.0.1:{exporter_port}']}}]}}]\n"
    )
    prom = prometheus(config, tmp_path / "prom-data", prom_port, tmp_path / "logs").start()
    try:
        yield log, f"http://127.0.0.1:{prom_port}"
    finally:
        prom.stop()
        exporter.stop()


def write_errors(log: Path, count: int) -> None:
    record = {
        "level": "error",
        "message": "upstream ollama returned 502",
        "route": "/v1/chat",
        "error_code": "E_UPSTREAM",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }
    with log.open("a") as f:
        f.writelines(json.dumps(record) + "\n" for _ in range(count))


def firing(base: str, name: str) -> list[dict]:
    alerts = query(base, "/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_error_burst_in_logs_fires_the_incident_alerts(stack):
    log, prom = stack
    write_errors(log, 1)
    # The counter must exist in Prometheus before the burst, or increase() has no baseline.
    wait_until(
        lambda: query(prom, "/api/v1/query", query="llm_sre_app_errors_total")["data"]["result"],
        30,
        what="the first app error scraped",
    )
    write_errors(log, 20)
    wait_until(lambda: firing(prom, "AppErrorBurst"), 60, what="AppErrorBurst firing")
    [burst] = firing(prom, "AppErrorBurst")
    assert {k: burst["labels"][k] for k in ("service", "route", "error_code")} == {
        "service": "rag-api",
        "route": "/v1/chat",
        "error_code": "E_UPSTREAM",
    }
    wait_until(lambda: firing(prom, "NewErrorLogPattern"), 30, what="NewErrorLogPattern firing")
    [new] = firing(prom, "NewErrorLogPattern")
    assert (new["labels"]["service"], new["labels"]["level"]) == ("rag-api", "error")
