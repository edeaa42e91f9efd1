"""JSON records from stdlib logging and structlog: fields, trace ids, masking."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from exporters.jsonlog import JsonFormatter, configure_structlog


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="rag-api"))
    log = logging.getLogger("tests.logs.jsonlog")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_stdlib_record_has_the_agreed_fields_and_extras(captured):
    log, stream = captured
    log.warning("retrieval slow: %d ms", 812, extra={"route": "/v1/chat", "error_code": "E_SLOW"})
    [rec] = lines(stream)
    assert rec["level"] == "warning" and rec["logger"] == "tests.logs.jsonlog"
    assert rec["message"] == "retrieval slow: 812 ms" and rec["service"] == "rag-api"
    assert rec["route"] == "/v1/chat" and rec["error_code"] == "E_SLOW"
    assert rec["ts"].endswith("Z")


def test_secrets_are_masked_by_content_and_by_key(captured):
    log, stream = captured
    log.info("dsn %s", "postgres://u:pw123456@db/x", extra={"password": "plain", "prompt_token": "57"})
    [rec] = lines(stream)
    assert rec["message"] == "dsn postgres://u:[REDACTED:url_password]@db/x"
    assert rec["password"] == "[REDACTED:password]"
    assert rec["prompt_token"] == "57"


def test_exception_is_included_and_masked(captured):
    log, stream = captured
    try:
        raise RuntimeError("upstream said Bearer abcDEF1234567890")
    except RuntimeError:
        log.exception("call failed")
    [rec] = lines(stream)
    assert rec["error_type"] == "RuntimeError"
    assert "Traceback" in rec["exception"] and "[REDACTED:bearer]" in rec["exception"]
    assert "abcDEF1234567890" not in json.dumps(rec)


def test_trace_ids_come_from_the_active_span(captured):
    log, stream = captured
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("chat") as span:
        log.info("inside span")
        ctx = span.get_span_context()
    log.info("outside span")
    inside, outside = lines(stream)
    assert inside["trace_id"] == f"{ctx.trace_id:032x}" and inside["span_id"] == f"{ctx.span_id:016x}"
    assert "trace_id" not in outside


def test_structlog_events_reach_stdlib_handlers_masked(captured):
    _, stream = captured
    configure_structlog()
    try:
        structlog.contextvars.bind_contextvars(route="/v1/search")
        log = structlog.get_logger("tests.logs.jsonlog")
        log.error("rerank failed", error_code="E_RERANK", api_key="abc", note="token=zzzyyyxxx123")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("crashed")
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
    first, second = lines(stream)
    assert first["message"] == "rerank failed" and first["level"] == "error"
    assert first["route"] == "/v1/search" and first["error_code"] == "E_RERANK"
    assert first["api_key"] == "[REDACTED:api_key]" and first["note"] == "token=[REDACTED:token]"
    assert second["error_type"] == "ValueError" and "boom" in second["exception"]
