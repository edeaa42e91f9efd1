"""`llm-sre exporter` with every source on: promtool accepts it and a real Prometheus scrapes it."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from exporters.instrument import Instruments
from llm_sre.processes import ManagedProcess, free_port, prometheus, require, wait_until
from tests.exporters.fake_docker import FakeDocker
from tests.exporters.fake_ollama import FakeOllama, loaded, pulled

OK = {
    "event": "llm.call",
    "model": "qwen2.5:7b",
    "provider": "ollama",
    "success": True,
    "latency_ms": 420,
    "prompt_tokens": 300,
    "completion_tokens": 40,
}
EVENTS = [
    OK,
    OK,
    {**OK, "success": False, "error": "ReadTimeout", "latency_ms": 30000},
    {"event": "rag.retrieve", "hits": 0, "topk": 5, "rerank_enabled": False, "latency_ms": 12},
    {
        "event": "rag.retrieve",
        "hits": 5,
        "topk": 5,
        "rerank_enabled": True,
        "rerank_model": "bge",
        "latency_ms": 30,
    },
    {"event": "embed.cache", "key": "k1", "hit": True},
    {"event": "ollama.usage", "kind": "embedding", "model": "nomic-embed-text", "count": 4, "latency_ms": 9},
]


def promtool_check(exposition: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("promtool"), "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=30,
    )


def write_events(path, events):
    with path.open("a") as f:
        f.writelines(json.dumps(e) + "\n" for e in events)


def test_promtool_accepts_the_instrumentation_output():
    registry = CollectorRegistry()
    inst = Instruments(registry)
    with inst.llm_call(provider="ollama", model="qwen2.5:7b") as call:
        call.first_token()
        call.tokens(input=1, output=2)
        call.server_timing(duration=1.0, time_to_first_token=0.1, time_per_output_token=0.02)
    with inst.retrieval() as r:
        r.documents(3, top_score=0.8, context_tokens=500)
    with inst.rerank(model="bge"):
        pass
    with inst.cache_lookup("embedding") as c:
        c.hit()
    inst.cache_entries("embedding", 3)
    inst.cache_evicted("embedding")
    inst.eval_score("faithfulness", 0.9)
    result = promtool_check(generate_latest(registry).decode())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def exporter(tmp_path):
    traces = tmp_path / "traces"
    traces.mkdir()
    write_events(traces / "app.jsonl", EVENTS)
    with FakeOllama() as ollama, FakeDocker(tmp_path / "docker.sock") as docker:
        ollama.ps = [loaded("qwen2.5:7b", 5_000_000_000)]
        ollama.tags = [pulled("qwen2.5:7b"), pulled("nomic-embed-text:latest")]
        port = free_port()
        proc = ManagedProcess(
            "exporter",
            [
                sys.executable,
                "-m",
                "llm_sre.cli",
                "exporter",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ollama",
                ollama.url,
                "--docker",
                docker.url,
            ],
            tmp_path / "exporter.log",
            env={
                "LLM_SRE_DATA_DIR": str(tmp_path / "data"),
                "TRACE_DIR": str(traces),
                "LLM_SRE_OLLAMA_POLL_SECONDS": "0.5",
                "LLM_SRE_DOCKER_POLL_SECONDS": "0.5",
                "LLM_SRE_TRACE_POLL_SECONDS": "0.2",
                "LLM_SRE_CGROUP_ROOT": str(tmp_path / "no-cgroups"),
            },
            ready_url=f"http://127.0.0.1:{port}/metrics",
        ).start()
        try:
            yield f"127.0.0.1:{port}", traces, proc
        finally:
            proc.stop()


@pytest.mark.e2e
def test_real_prometheus_scrapes_every_source(exporter, tmp_path):
    target, traces, proc = exporter
    url = f"http://{target}/metrics"
    wait_until(
        lambda: (
            "llm_sre_container_up{" in httpx.get(url).text and "llm_sre_ollama_up 1.0" in httpx.get(url).text
        ),
        timeout=30,
        what="first Ollama and Docker polls",
    )
    result = promtool_check(httpx.get(url).text)
    assert result.returncode == 0, result.stdout + result.stderr

    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: 1s\nscrape_configs:\n"
        f"  - job_name: llm-sre-exporter\n    static_configs:\n      - targets: ['{target}']\n"
    )
    server = prometheus(config, tmp_path / "tsdb", prom_port, tmp_path / "logs").start(timeout=60)
    try:
        api = f"http://127.0.0.1:{prom_port}/api/v1/query"

        def query(expr: str) -> dict[str, float]:
            result = httpx.get(api, params={"query": expr}).json()["data"]["result"]
            return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in result}

        def single(expr: str) -> float | None:
            values = list(query(expr).values())
            return values[0] if len(values) == 1 else None

        wait_until(lambda: single('up{job="llm-sre-exporter"}') == 1, timeout=30, what="first scrape")
        assert single('sum(llm_sre_llm_calls_total{error_type=""})') == 2
        assert single('sum(llm_sre_llm_calls_total{error_type="ReadTimeout"})') == 1
        assert single('sum(llm_sre_rag_retrievals_total{outcome="empty"})') == 1
        assert single("llm_sre_ollama_up") == 1
        assert single('llm_sre_ollama_model_vram_bytes{model="qwen2.5:7b"}') == 5e9
        assert single('llm_sre_container_restarts_total{compose_service="ollama"}') == 5
        assert single('llm_sre_container_last_exit_code{name="llm-ollama-1"}') == 137
        assert single('llm_sre_container_health_status{name="llm-api-1", status="healthy"}') == 1
        assert single('sum(llm_sre_cache_requests_total{result="hit"})') == 1
        # Live tailing: new lines show up in Prometheus, counted once.
        write_events(traces / "app.jsonl", [OK, OK, OK])
        wait_until(
            lambda: single('sum(llm_sre_llm_calls_total{error_type=""})') == 5,
            timeout=30,
            what="new trace lines in Prometheus",
        )
        assert (
            single(
                "histogram_quantile(0.5, sum by (le) (rate(gen_ai_client_operation_duration_seconds_bucket"
                '{error_type=""}[1m])))'
            )
            is not None
        )
    finally:
        server.stop()
    assert proc.alive()
