"""Every dashboard query runs on a real Prometheus that scrapes the whole metric catalogue.

promtool only checks syntax; this catches what fails at evaluation time (many-to-many matching,
a ratio whose sides never share labels, a recording rule the SLO board expects but nothing
produces) by feeding Prometheus live series for every catalogue metric plus the repo's rules.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from exporters import catalogue
from llm_sre.processes import free_port, prometheus, wait_until
from llm_sre.stack import REPO
from tests.provisioning.promql import Expression, expressions

pytestmark = pytest.mark.e2e

# Dashboard expressions that legitimately stay empty here: vLLM is not running, and no alert fires.
EXPECTED_EMPTY = ("vllm:", "ALERTS")


# Labels no panel groups or filters by get one value: two each would multiply the GenAI and HTTP
# histograms eightfold, past what a 2 s scrape of this process can render.
SINGLE_VALUED = {"gen_ai_response_model", "server_address", "server_port", "url_scheme",
                 "network_protocol_version"}


def _label_values(spec: catalogue.MetricSpec, label: str) -> tuple[str, ...]:
    if label in spec.values:
        return spec.values[label]
    if label == "error_type":
        return ("", "TimeoutError")  # empty on success, as the catalogue agrees
    if label == "http_response_status_code":
        return ("200", "503")  # the 5xx panel needs a 5xx
    if label in SINGLE_VALUED:
        return ("a",)
    return ("a", "b")


def _series(spec: catalogue.MetricSpec) -> Iterator[dict[str, str]]:
    choices = [_label_values(spec, label) for label in spec.labels]
    for combination in itertools.product(*choices):
        yield dict(zip(spec.labels, combination, strict=True))


class Traffic:
    """Records into every catalogue metric of a registry until stopped, like a busy app would."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.metrics = catalogue.metrics(registry)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _tick(self) -> None:
        for name, spec in catalogue.SPECS.items():
            metric = self.metrics[name]
            for labels in _series(spec):
                child = metric.labels(**labels) if labels else metric
                if spec.kind == "counter":
                    child.inc()
                elif spec.kind == "gauge":
                    child.set(1)
                else:
                    buckets = spec.buckets or (1.0,)
                    child.observe(buckets[len(buckets) // 2] * 0.9)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._tick()

    def __enter__(self) -> Traffic:
        self._tick()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _query(base: str, promql: str) -> dict[str, Any]:
    """Prometheus' JSON answer; evaluation errors come back as 400/422 with ``status: error``."""
    return httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10).json()


def _config(tmp_path: Path, target: str) -> Path:
    """The shipped prometheus.yml with the repo's rule files and only the app job, on a 2 s beat
    (1 s left a loaded 2-core machine rendering the exposition past the scrape timeout)."""
    shipped = yaml.safe_load((REPO / "provisioning/prometheus/prometheus.yml").read_text())
    (app_job,) = [job for job in shipped["scrape_configs"] if job["job_name"] == "llm-app"]
    app_job["static_configs"][0]["targets"] = [target]
    for key in ("scrape_interval", "scrape_timeout"):
        app_job.pop(key, None)
    config = {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
        "rule_files": [str(REPO / "rules/generated/*.yml"), str(REPO / "rules/alerts/*.yml")],
        "scrape_configs": [app_job],
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _evaluable(expression: Expression) -> str:
    # Windows short enough for a few seconds of 2 s scrapes to fill them.
    text = expression.text.replace("$__rate_interval", "15s").replace("$__range", "1m")
    return Expression(expression.dashboard, expression.where, text).promql()


def test_every_dashboard_query_evaluates_and_shows_data(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    exporter_port, prometheus_port = free_port(), free_port()
    server, _ = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)
    base = f"http://127.0.0.1:{prometheus_port}"
    process = prometheus(
        _config(tmp_path, f"127.0.0.1:{exporter_port}"), tmp_path / "data", prometheus_port, tmp_path
    )
    try:
        with Traffic(registry):
            process.start(timeout=30)

            def recorded() -> bool:
                # The end of the SLO recording chain (5m -> 30d -> period burn -> budget left).
                result = _query(
                    base,
                    "rate(llm_sre_llm_calls_total[15s]) > 0 and on() slo:period_error_budget_remaining:ratio",
                )
                return bool(result["data"]["result"])

            wait_until(recorded, timeout=40, what="scraped rates and evaluated SLO recording rules")
            failures, empty = [], []
            for expression in expressions():
                promql = _evaluable(expression)
                result = _query(base, promql)
                where = f"{expression.dashboard} / {expression.where}"
                if result["status"] != "success":
                    failures.append(f"{where}: {result.get('error')}")
                elif not result["data"]["result"] and not any(name in promql for name in EXPECTED_EMPTY):
                    # On a busy machine a scrape can time out and leave a gap: ask again
                    # before calling the query empty.
                    try:
                        wait_until(lambda q=promql: _query(base, q)["data"]["result"], 10, 0.5)
                    except TimeoutError:
                        empty.append(f"{where}: {promql}")
    finally:
        process.stop()
        server.shutdown()
    assert failures == []
    assert empty == []
