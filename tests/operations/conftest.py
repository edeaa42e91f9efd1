"""Real Prometheus (with backfilled history), real Alertmanager and the real webhook app for the
checklist tests; Ollama and OpenAI-compatible servers are the wire-format stand-ins.

Prometheus gets 15 days of history through ``promtool tsdb create-blocks-from openmetrics``, so
the 24 h and week-over-week queries run against real TSDB blocks, and each test picks the
evaluation time (``now``) whose window it wants — no waiting for scrapes.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
import yaml

from alert_webhooks.app import create_app
from alert_webhooks.settings import Settings
from llm_sre import processes
from llm_sre.processes import free_port, http_ok, wait_until
from tests.exporters.fake_ollama import FakeOllama
from tests.exporters.fake_openai import FakeOpenAI

# promtool writes one block per 2 h window holding samples (~0.3 s each here), so the history is
# sparse: a sample every 12 h. Both sides of every ratio share the timestamps, so rate()'s
# extrapolation cancels out and the expected ratios stay exact.
STEP = 12 * 3600
DAY = 86400


@dataclass(frozen=True)
class History:
    url: str
    end: float  # last sample; the last 24 h before it carry errors, and a target is down at it

    @property
    def quiet(self) -> float:
        """An evaluation time two days back: no errors, every target up."""
        return self.end - 2 * DAY


def _openmetrics(end: float) -> str:
    start = end - 30 * STEP
    series: dict[str, list[str]] = {}
    totals: dict[str, float] = {}

    def add(name: str, labels: str, inc: float, ts: float) -> None:
        key = f"{name}{{{labels}}}"
        totals[key] = totals.get(key, 0.0) + inc
        series.setdefault(key, []).append(f"{key} {totals[key]} {ts:.0f}")

    t = start
    while t <= end:  # from ``end`` back in whole steps, so ``end`` and ``end - 2 d`` are samples
        last_day, this_week, latest = t > end - DAY, t > end - 7 * DAY, t == end
        add("llm_sre_llm_calls_total", 'error_type=""', 10, t)
        add("llm_sre_llm_calls_total", 'error_type="ReadTimeout"', 1 if last_day else 0, t)
        add("llm_sre_rag_retrievals_total", 'outcome="hit"', 6 if this_week else 9, t)
        add("llm_sre_rag_retrievals_total", 'outcome="empty"', 4 if this_week else 1, t)
        add("llm_sre_rag_reranks_total", 'outcome="applied"', 5, t)
        add("llm_sre_rag_reranks_total", 'outcome="skipped"', 5, t)
        add("llm_sre_cache_requests_total", 'result="hit"', 8, t)
        add("llm_sre_cache_requests_total", 'result="miss"', 2, t)
        series.setdefault('up{job="app",instance="app:8000"}', []).append(
            f'up{{job="app",instance="app:8000"}} {0 if latest else 1} {t:.0f}')
        series.setdefault('up{job="prometheus",instance="localhost:9090"}', []).append(
            f'up{{job="prometheus",instance="localhost:9090"}} 1 {t:.0f}')
        t += STEP
    out = []
    for name, kind in (("llm_sre_llm_calls", "counter"), ("llm_sre_rag_retrievals", "counter"),
                       ("llm_sre_rag_reranks", "counter"), ("llm_sre_cache_requests", "counter"),
                       ("up", "gauge")):
        out.append(f"# TYPE {name} {kind}")
        for key, lines in series.items():
            if key.split("{")[0] in (name, name + "_total"):
                out += lines
    return "\n".join(out) + "\n# EOF\n"


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    tmp = tmp_path_factory.mktemp("prom")
    end = float(int(time.time()) - 60)
    (tmp / "history.om").write_text(_openmetrics(end))
    subprocess.run([processes.require("promtool"), "tsdb", "create-blocks-from", "openmetrics", "-q",
                    str(tmp / "history.om"), str(tmp / "data")], check=True, capture_output=True)
    (tmp / "prometheus.yml").write_text("global: {scrape_interval: 1h}\nscrape_configs: []\n")
    port = free_port()
    proc = processes.prometheus(tmp / "prometheus.yml", tmp / "data", port, tmp).start(timeout=60)
    try:
        yield History(f"http://127.0.0.1:{port}", end)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("am")
    config = {"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}
    (tmp / "am.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = processes.alertmanager(tmp / "am.yml", tmp / "data", port, tmp).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The webhook app (create_app) under uvicorn on a free port, as ``llm-sre serve`` runs it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("webhook"), webhook_token="t",
                        llm_concurrency=0, analyst_backend="none")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/readyz"), 30, what="webhook /readyz")
        yield url
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
