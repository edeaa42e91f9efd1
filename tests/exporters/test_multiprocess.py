"""Under several uvicorn worker processes, /metrics shows the sum of every worker's calls."""

from __future__ import annotations

import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.multiprocess import prepare
from llm_sre.processes import ManagedProcess, free_port, wait_until

REPO = __file__.rsplit("/tests/", 1)[0]


@pytest.mark.e2e
def test_two_uvicorn_workers_are_merged(tmp_path):
    folder = prepare(tmp_path / "multiproc")
    (folder / "stale.db").write_bytes(b"")
    assert prepare(folder) == folder and not any(folder.iterdir())  # wiped at start
    port = free_port()
    server = ManagedProcess(
        "uvicorn",
        [sys.executable, "-m", "uvicorn", "tests.exporters.mp_app:app", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "2", "--log-level", "warning"],
        tmp_path / "uvicorn.log",
        env={"PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": REPO},
        ready_url=f"http://127.0.0.1:{port}/metrics/",
    )
    server.start(timeout=60)
    try:
        pids: set[int] = set()
        calls = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            def both_workers_served() -> bool:
                nonlocal calls
                # A new connection each time, so the kernel spreads them over both workers.
                pids.add(httpx.get(f"http://127.0.0.1:{port}/call").json()["pid"])
                calls += 1
                return len(pids) == 2

            wait_until(both_workers_served, timeout=60, interval=0.01, what="both workers to serve a call")
            text = http.get("/metrics/").text
        samples = {(s.name, s.labels.get("gen_ai_token_type")): s.value
                   for f in text_string_to_metric_families(text) for s in f.samples}
        assert samples[("llm_sre_llm_calls_total", None)] == calls
        assert samples[("llm_sre_llm_tokens_total", "input")] == 10 * calls
        assert samples[("gen_ai_client_operation_duration_seconds_count", None)] == calls
        assert len(list(folder.glob("*.db"))) >= 2  # one file set per worker
    finally:
        server.stop()
