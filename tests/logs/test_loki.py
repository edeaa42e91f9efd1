"""The Loki handler against a local receiver speaking Loki's push protocol: up, down, slow, 429."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exporters.dlq import DeadLetters
from exporters.loki import LokiHandler, LokiOptions, retry_after, setup_logging
from exporters.sampling import SamplingPolicy
from exporters.settings import ExporterSettings
from llm_sre.processes import free_port, wait_until

from .loki_receiver import LokiReceiver

FAST = LokiOptions(batch_wait=0.05, backoff=0.05, max_backoff=0.2, close_timeout=5.0, timeout=10.0)
LABELS = {"service": "rag-api", "env": "test"}


@pytest.fixture
def receiver() -> Iterator[LokiReceiver]:
    r = LokiReceiver(free_port()).start()
    yield r
    r.stop()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


SPILL = Path("unset")


@pytest.fixture(autouse=True)
def spill_dir(tmp_path, monkeypatch) -> Path:
    """Every handler of a test spills under its tmp_path (make_handler reads SPILL)."""
    monkeypatch.setattr(sys.modules[__name__], "SPILL", tmp_path / "spill")
    return tmp_path / "spill"


def make_handler(url: str, registry: CollectorRegistry, **options: object) -> LokiHandler:
    opts = LokiOptions(**{**FAST.__dict__, "spill_dir": SPILL, **options})
    return LokiHandler(url, LABELS, opts, registry=registry)


def record(msg: str, created: float | None = None, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("rag.api", logging.ERROR, __file__, 1, msg, (), None)
    if created is not None:
        rec.created = created
    rec.__dict__.update(extra)
    return rec


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def emit_in_thread(handler: LokiHandler, count: int) -> threading.Thread:
    """Emit from another thread so a blocking emit shows up as a timeout, not a hung test run."""
    t = threading.Thread(target=lambda: [handler.handle(record(f"event {i}")) for i in range(count)])
    t.start()
    return t


def test_push_matches_loki_wire_format(receiver, registry):
    handler = make_handler(receiver.url, registry)
    created = 1764198065.123456
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    handler.handle(
        record(
            "login failed password=hunter22 for %s",
            created,
            trace_id=trace_id,
            route="/v1/chat",
            error_code="E_AUTH",
        )
    )
    handler.flush()
    handler.close()
    [(labels, ns, line, metadata)] = receiver.entries
    assert labels == LABELS
    assert ns == str(int(created * 1_000_000_000))
    fields = json.loads(line)
    assert fields["message"] == "login failed password=[REDACTED:password] for %s"
    assert fields["route"] == "/v1/chat" and fields["error_code"] == "E_AUTH"
    assert fields["ts"] == "2025-11-26T23:01:05.123Z"
    assert metadata == {"trace_id": trace_id, "level": "error"}
    assert receiver.requests[0].headers["Content-Encoding"] == "gzip"
    assert sample(registry, "llm_sre_loki_records_sent_total") == 1


def test_batches_by_size(receiver, registry):
    handler = make_handler(receiver.url, registry, batch_size=10, batch_wait=30.0)
    for i in range(30):
        handler.handle(record(f"event {i}"))
    wait_until(lambda: len(receiver.entries) == 30, 10, what="three full batches")
    handler.close()
    assert len(receiver.requests) == 3
    assert [json.loads(line)["message"] for line in receiver.lines()] == [f"event {i}" for i in range(30)]


def test_429_then_204_honours_retry_after_and_loses_nothing(receiver, registry):
    receiver.script.append((429, {"Retry-After": "1"}))
    handler = make_handler(receiver.url, registry)
    for i in range(5):
        handler.handle(record(f"event {i}"))
    wait_until(lambda: len(receiver.entries) == 5, 10, what="retried batch")
    handler.close()
    first, second = receiver.requests[:2]
    assert (first.status, second.status) == (429, 204)
    assert second.at - first.at >= 0.9  # Retry-After: 1, not the 0.05 s backoff
    messages = [json.loads(line)["message"] for line in receiver.lines()]
    assert messages == [f"event {i}" for i in range(5)]  # via the spill, in order
    assert sample(registry, "llm_sre_loki_push_failures_total", cause="rate_limited") == 1


def test_5xx_is_retried(receiver, registry):
    receiver.script.extend([(500, {}), (503, {})])
    handler = make_handler(receiver.url, registry)
    handler.handle(record("event"))
    wait_until(lambda: len(receiver.entries) == 1, 10, what="delivery after two 5xx")
    handler.close()
    assert [r.status for r in receiver.requests] == [500, 503, 204]
    assert sample(registry, "llm_sre_loki_push_failures_total", cause="server_error") == 2


def test_other_4xx_is_final_and_parked_as_dead_letters(receiver, registry, tmp_path):
    receiver.script.append((400, {}))
    handler = make_handler(receiver.url, registry, dlq_dir=tmp_path / "dlq")
    for i in range(3):
        handler.handle(record(f"event {i}"))
    handler.flush()
    handler.close()
    assert len(receiver.requests) == 1
    assert sample(registry, "llm_sre_loki_dead_letters_total", cause="rejected") == 3
    assert DeadLetters(tmp_path / "dlq").counts() == {"rejected": (1, 3)}


def test_receiver_down_then_up_delivers_everything(registry):
    receiver = LokiReceiver(free_port())
    handler = make_handler(receiver.url, registry)
    emitter = emit_in_thread(handler, 20)
    wait_until(lambda: not emitter.is_alive(), 10, what="emits to return while Loki is down")
    wait_until(lambda: sample(registry, "llm_sre_loki_records_spilled_total") == 20, 10, what="all spilled")
    receiver.start()
    try:
        wait_until(lambda: len(receiver.entries) == 20, 10, what="delivery once Loki is back")
        handler.close()
    finally:
        receiver.stop()
    assert sample(registry, "llm_sre_loki_records_sent_total") == 20


def test_hung_receiver_never_blocks_and_loses_nothing(receiver, registry):
    receiver.gate.clear()  # every push hangs until released; the client gives up after 0.5 s
    handler = make_handler(receiver.url, registry, queue_size=50, batch_size=10, timeout=0.5)
    emitter = emit_in_thread(handler, 500)
    wait_until(lambda: not emitter.is_alive(), 10, what="500 emits to return while Loki hangs")
    wait_until(lambda: sample(registry, "llm_sre_loki_records_spilled_total") > 0, 10, what="spilling")
    receiver.gate.set()
    wait_until(lambda: len(receiver.entries) == 500, 20, what="everything delivered after the hang")
    handler.close()
    messages = [json.loads(line)["message"] for line in receiver.lines()]
    assert messages == [f"event {i}" for i in range(500)]  # in order, each once (Loki drops exact repeats)
    assert sample(registry, "llm_sre_loki_records_dropped_total", reason="memory_full", level="error") == 0


def test_close_gives_up_at_its_deadline_and_spills_the_rest_for_the_next_start(receiver, registry):
    receiver.gate.clear()
    handler = make_handler(receiver.url, registry, close_timeout=0.5, timeout=1.0, batch_size=5)
    for i in range(20):
        handler.handle(record(f"event {i}"))
    closer = threading.Thread(target=handler.close)
    closer.start()
    wait_until(lambda: not closer.is_alive(), 10, what="close to return despite a hung Loki")
    spilled = sample(registry, "llm_sre_loki_records_spilled_total")
    assert spilled + sample(registry, "llm_sre_loki_records_sent_total") == 20
    assert spilled > 0
    assert sample(registry, "llm_sre_loki_records_dropped_total", reason="shutdown", level="error") == 0
    receiver.gate.set()
    again = make_handler(receiver.url, CollectorRegistry())  # the next start drains the spill
    wait_until(lambda: len(receiver.entries) == 20, 10, what="spill drained at restart")
    again.close()
    messages = sorted(json.loads(x)["message"] for x in receiver.lines())
    assert messages == sorted(f"event {i}" for i in range(20))


def test_handler_ignores_its_own_http_client_logs(receiver, registry):
    """Attached to the root logger, httpx's request logs from the worker must not loop back."""
    handler = make_handler(receiver.url, registry)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("app").info("one app line")
        wait_until(lambda: len(receiver.entries) >= 1, 10, what="first push")
        logging.getLogger("app").info("second app line")
        handler.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    assert [json.loads(line)["message"] for line in receiver.lines()] == ["one app line", "second app line"]


def test_long_lines_are_truncated_to_the_limit(receiver, registry):
    handler = make_handler(receiver.url, registry, max_line_bytes=300)
    handler.handle(record("x" * 5000))
    handler.close()
    [line] = receiver.lines()
    assert len(line.encode()) <= 300 and line.endswith("…[truncated]")


def test_flush_on_interpreter_exit(receiver):
    """No explicit close: logging.shutdown at exit must push what is queued."""
    script = (
        "import logging, pathlib; from exporters.loki import LokiHandler, LokiOptions; "
        f"h = LokiHandler({receiver.url!r}, {{'service': 'child', 'env': 'test'}}, "
        f"LokiOptions(batch_wait=30, spill_dir=pathlib.Path({str(SPILL)!r}))); "
        "log = logging.getLogger('child'); log.addHandler(h); log.setLevel(logging.INFO); "
        "[log.info('line %d', i) for i in range(100)]"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert len(receiver.entries) == 100
    assert {labels["service"] for labels, _, _, _ in receiver.entries} == {"child"}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("7", 7.0), ("100000", 300.0), ("soon", None)],
)
def test_retry_after_delta_seconds(header, seconds):
    assert retry_after(header) == seconds


def test_retry_after_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after(when) or 0) <= 30


def test_forked_worker_process_ships_its_own_records_once(receiver, registry):
    """gunicorn-style: the handler exists before fork; parent and child each push their own."""
    handler = make_handler(receiver.url, registry, batch_wait=30.0)
    handler.handle(record("before fork"))  # still buffered when the child is forked
    pid = os.fork()
    if pid == 0:  # child: log, drain, leave without running pytest's teardown
        code = 1
        try:
            handler.handle(record("from child"))
            handler.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    handler.close()
    assert sorted(json.loads(line)["message"] for line in receiver.lines()) == ["before fork", "from child"]


def test_from_settings_uses_the_loki_variables(receiver, registry):
    settings = ExporterSettings(
        LOKI_URL=receiver.url,
        LOKI_ENV="prod",
        LLM_SRE_SERVICE="rag-api",
        LOKI_TENANT_ID="team-a",
        LOKI_BATCH_SIZE=7,
        LLM_SRE_DATA_DIR=str(SPILL.parent),
    )
    handler = LokiHandler.from_settings(settings, registry=registry)
    handler.handle(record("configured"))
    handler.close()
    [(labels, _, _, _)] = receiver.entries
    assert labels == {"service": "rag-api", "env": "prod"}
    assert receiver.requests[0].headers["X-Scope-OrgID"] == "team-a"
    assert handler.options.batch_size == 7
    assert handler.options.spill_dir == SPILL and handler.options.dlq_dir == SPILL.parent / "loki-dlq"


def test_basic_auth_from_settings_is_sent_and_never_printed(receiver, registry):
    settings = ExporterSettings(LOKI_URL=receiver.url, LOKI_USERNAME="12345", LOKI_PASSWORD="glc_s3cretvalue",
                                LLM_SRE_DATA_DIR=str(SPILL.parent))
    handler = LokiHandler.from_settings(settings, registry=registry)
    handler.handle(record("authenticated"))
    handler.close()
    expected = "Basic " + base64.b64encode(b"12345:glc_s3cretvalue").decode()
    assert receiver.requests[0].headers["Authorization"] == expected
    assert "glc_s3cretvalue" not in repr(handler.options) + repr(settings)


def test_dropped_batches_are_logged_for_other_handlers(receiver, registry, caplog):
    receiver.script.append((400, {}))
    handler = make_handler(receiver.url, registry)
    with caplog.at_level(logging.WARNING, logger="exporters.loki"):
        handler.handle(record("rejected line"))
        handler.close()
    assert any("Loki refused 1 records (rejected, HTTP 400)" in r.getMessage() for r in caplog.records)


def test_setup_logging_writes_json_and_ships_to_loki(receiver):
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers)
    settings = ExporterSettings(LOKI_URL=receiver.url, LLM_SRE_SERVICE="webhook",
                                LLM_SRE_DATA_DIR=str(SPILL.parent))
    loki = setup_logging(settings, stream=stream)
    try:
        logging.getLogger("alert_webhooks").warning("slack answered 429, token=abcdef123456 retrying")
        assert loki is not None
        loki.flush()
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == "slack answered 429, token=[REDACTED:token] retrying"
    assert [json.loads(x)["service"] for x in receiver.lines()] == ["webhook"]


def test_setup_logging_without_loki_url_only_writes_json():
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert setup_logging(ExporterSettings(), stream=stream) is None
        logging.getLogger("x").error("plain")
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
    assert json.loads(stream.getvalue())["level"] == "error"


def test_flush_does_not_wait_while_loki_is_down(registry):
    """logging.shutdown flushes every handler at exit: a dead Loki must not hold the exit."""
    handler = make_handler(f"http://127.0.0.1:{free_port()}", registry, close_timeout=60.0)
    handler.handle(record("nobody listens"))
    wait_until(lambda: sample(registry, "llm_sre_loki_push_failures_total", cause="network") >= 1, 10,
               what="a failed push")
    flusher = threading.Thread(target=handler.flush)
    flusher.start()
    wait_until(lambda: not flusher.is_alive(), 10, what="flush to return while Loki is down")
    handler.options = LokiOptions(**{**handler.options.__dict__, "close_timeout": 0.2})
    handler.close()
    assert sample(registry, "llm_sre_loki_records_spilled_total") == 1


def test_kept_sampled_records_carry_their_rate_and_errors_are_never_sampled(receiver, registry):
    policy = SamplingPolicy(overrides=({"logger": "rag.api", "rate": 0.5},))
    handler = make_handler(receiver.url, registry, sampling=policy)
    for i in range(10):
        info = record(f"info {i}")
        info.levelno, info.levelname = logging.INFO, "INFO"
        handler.handle(info)
        handler.handle(record(f"error {i}"))
    handler.flush()
    handler.close()
    rows = [json.loads(line) for line in receiver.lines()]
    infos = [r for r in rows if r["level"] == "info"]
    assert len(infos) == 5 and all(r["sample_rate"] == 0.5 for r in infos)
    assert [r["message"] for r in rows if r["level"] == "error"] == [f"error {i}" for i in range(10)]
    assert all("sample_rate" not in r for r in rows if r["level"] == "error")
    assert sample(registry, "llm_sre_loki_records_sampled_out_total", level="info") == 5


def test_secrets_masked_out_of_shipped_records_are_counted_by_kind(receiver, registry):
    """Secrets seen in logs (docs/analysts.md): counted by kind, never shipped, never a label."""
    handler = make_handler(receiver.url, registry)
    handler.handle(record("s3 upload with AKIAIOSFODNN7EXAMPLE", api_key="k-9f8e7d6c5b4a3210"))
    handler.handle(record("login ok for alice@corp.example"))  # personal data: masked, not a secret
    handler.handle(record("docs say password=[REDACTED:password]"))  # already a marker: not a new one
    handler.flush()
    handler.close()
    shipped = " ".join(line for _, _, line, _ in receiver.entries)
    assert "AKIAIOSFODNN7EXAMPLE" not in shipped and "k-9f8e7d6c5b4a3210" not in shipped
    assert sample(registry, "llm_sre_log_secrets_total", service="rag-api", kind="aws_access_key") == 1
    assert sample(registry, "llm_sre_log_secrets_total", service="rag-api", kind="api_key") == 1
    assert sample(registry, "llm_sre_log_secrets_total", service="rag-api", kind="password") == 0
    assert sample(registry, "llm_sre_log_secrets_total", service="rag-api", kind="email") == 0
