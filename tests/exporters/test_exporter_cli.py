"""``llm-sre exporter`` and ``llm-sre metrics-doc`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from llm_sre.cli import build_parser
from llm_sre.processes import ManagedProcess, free_port

REPO = __file__.rsplit("/tests/", 1)[0]


def cli(*args: str, cwd, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("TRACE_DIR", "LLM_SRE_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "llm_sre.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "PYTHONPATH": REPO, **env},
    )


@pytest.mark.parametrize("command", ["exporter", "metrics-doc"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: llm-sre " + command in capsys.readouterr().out


def test_defaults_read_trace_dir_under_the_data_dir_and_create_nothing_else(tmp_path):
    traces = tmp_path / "data" / "traces"
    traces.mkdir(parents=True)
    (traces / "app.jsonl").write_text(json.dumps({"event": "embed.cache", "key": "k", "hit": True}) + "\n")
    result = cli("exporter", "--once", cwd=tmp_path, env={})
    assert result.returncode == 0, result.stderr
    assert 'llm_sre_cache_requests_total{cache="embedding",result="hit"} 1.0' in result.stdout
    # The LLM families are listed even before the first llm.call event.
    assert "# TYPE gen_ai_client_operation_duration_seconds histogram" in result.stdout
    assert "# TYPE gen_ai_client_token_usage histogram" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["exporter", "metrics", "traces"]


def test_metrics_doc_check_passes_on_the_committed_file(tmp_path):
    result = cli("metrics-doc", "--check", cwd=tmp_path, env={})
    assert result.returncode == 0 and "up to date" in result.stdout


@pytest.mark.e2e
def test_serves_metrics_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    proc = ManagedProcess(
        "exporter",
        [sys.executable, "-m", "llm_sre.cli", "exporter", "--port", str(port)],
        tmp_path / "exporter.log",
        env={"LLM_SRE_DATA_DIR": str(tmp_path / "data")},
        ready_url=f"http://127.0.0.1:{port}/metrics",
    ).start()
    assert "process_cpu_seconds_total" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    proc.stop(grace=10)
    assert proc.proc is not None and proc.proc.returncode == 0, proc.tail()
