"""The shell commands, run as a user would: real stdin/stdout through a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from llm_sre.processes import ManagedProcess, free_port, require, wait_until

# Builds the parser from this area's module only, so the test does not depend on other areas.
_RUN = (
    "import argparse, sys; from exporters import logs_cli; p = argparse.ArgumentParser(); "
    "logs_cli.register(p.add_subparsers(required=True)); a = p.parse_args(sys.argv[1:]); "
    "sys.exit(a.func(a))"
)


def run_cli(
    *argv: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_redact_keeps_line_count_and_masks(secrets, clean):
    lines = [line for _, _, line in secrets] + clean
    result = run_cli("redact", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert len(out) == len(lines)
    assert out[len(secrets) :] == clean
    assert all(secret not in o for (_, secret, _), o in zip(secrets, out, strict=False))


def test_logs_mine_prints_one_json_line_per_input_line(tmp_path):
    lines = [
        "2026-11-26 10:00:00,001 INFO a: started 5 workers",
        "2026-11-26 10:00:01,002 INFO a: started 7 workers",
        '{"level": "error", "message": "upstream 502 for key=sk-proj-abcdefghijklmnopqrstuvwx"}',
    ]
    log = tmp_path / "app.log"
    log.write_text("\n".join(lines) + "\n")
    result = run_cli("logs", "mine", str(log))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line_no"] for r in rows] == [1, 2, 3]
    assert rows[0]["pattern_id"] == rows[1]["pattern_id"] != rows[2]["pattern_id"]
    assert rows[0]["template"] == "a: started <NUM> workers"
    assert "sk-proj" not in result.stdout  # templates are masked


def test_logs_mine_reads_stdin_and_keeps_ids_with_state(tmp_path):
    state = tmp_path / "miner.state"
    first = run_cli("logs", "mine", "--state", str(state), stdin="alpha begins\nbeta ends now\n")
    second = run_cli("logs", "mine", "--state", str(state), stdin="beta ends now\n")
    ids = {json.loads(line)["template"]: json.loads(line)["pattern_id"] for line in first.stdout.splitlines()}
    assert json.loads(second.stdout)["pattern_id"] == ids["beta ends now"]


def test_logs_export_once_emits_valid_exposition(tmp_path):
    log = tmp_path / "app.log"
    log.write_text('{"level": "error", "message": "boom", "route": "/v1/chat", "error_code": "E1"}\nok 1\n')
    env = {**os.environ, "LLM_SRE_DATA_DIR": str(tmp_path / "data")}
    result = run_cli("logs", "export", "--once", "--from-start", "--file", f"rag={log}", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'llm_sre_app_errors_total{error_code="E1",route="/v1/chat",service="rag"} 1.0' in out
    assert 'llm_sre_log_new_patterns_total{level="info",service="rag"} 1.0' in out
    lint = subprocess.run(
        [require("promtool"), "check", "metrics"], input=out, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert (tmp_path / "data" / "logs" / "patterns.drain").exists()  # state saved for the next start


@pytest.mark.e2e
def test_logs_export_serves_and_saves_its_state_on_sigterm(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("worker 3 started\n")
    port, state = free_port(), tmp_path / "data" / "logs" / "patterns.json"
    proc = ManagedProcess(
        "logs-export",
        [sys.executable, "-c", _RUN, "logs", "export", "--from-start", "--file", f"rag={log}",
         "--port", str(port)],
        tmp_path / "export.log",
        env={"LLM_SRE_DATA_DIR": str(tmp_path / "data")},
        ready_url=f"http://127.0.0.1:{port}/metrics",
    ).start()
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        counted = 'llm_sre_log_new_patterns_total{level="info",service="rag"} 1.0'
        wait_until(lambda: counted in httpx.get(url).text, 10, what="the line counted")
        assert not state.exists()  # a file source saves once a minute: only the stop path wrote it now
    finally:
        proc.stop(grace=10)
    assert proc.proc is not None and proc.proc.returncode == 0, proc.tail()
    assert state.exists() and (state.parent / "patterns.drain").exists()
