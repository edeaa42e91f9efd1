"""structlog events reach Loki masked, through the same LokiHandler path as stdlib records."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from prometheus_client import CollectorRegistry

from exporters.jsonlog import configure_structlog
from exporters.loki import LokiHandler, LokiOptions
from llm_sre.processes import free_port
from tests.logs.loki_receiver import LokiReceiver

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def loki() -> Iterator[tuple[LokiReceiver, LokiHandler]]:
    receiver = LokiReceiver(free_port()).start()
    handler = LokiHandler(receiver.url, {"service": "rag-api", "env": "test"}, LokiOptions(batch_wait=0.05),
                          registry=CollectorRegistry())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    configure_structlog()
    try:
        yield receiver, handler
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
        receiver.stop()


def test_structlog_events_are_pushed_masked_with_their_context(loki):
    receiver, handler = loki
    log = structlog.get_logger("rag.api")
    structlog.contextvars.bind_contextvars(route="/v1/chat", trace_id=TRACE_ID)
    log.warning("upstream said Authorization: Bearer sk-live-0123456789abcdefABCDEF", api_key="s3cr3t-value",
                error_code="E_UPSTREAM")
    log.info("login", name="alice", module="billing")  # LogRecord attribute names: kept, not fatal
    try:
        raise ConnectionError("vector store down")
    except ConnectionError:
        log.exception("retrieval failed")
    handler.flush()

    rows = receiver.entries
    assert [json.loads(line)["message"] for _, _, line, _ in rows][1:] == ["login", "retrieval failed"]
    (labels, _, first, metadata) = rows[0]
    assert labels == {"service": "rag-api", "env": "test"}  # ids never become stream labels
    assert metadata == {"trace_id": TRACE_ID, "level": "warning"}
    fields = json.loads(first)
    assert "sk-live-0123456789abcdefABCDEF" not in first and "s3cr3t-value" not in first
    assert fields["api_key"].startswith("[REDACTED")
    assert fields["route"] == "/v1/chat" and fields["error_code"] == "E_UPSTREAM"
    login = json.loads(rows[1][2])
    assert login["name_"] == "alice" and login["module_"] == "billing" and login["logger"] == "rag.api"
    failed = json.loads(rows[2][2])
    assert failed["level"] == "error" and failed["error_type"] == "ConnectionError"
    assert "vector store down" in failed["exception"]
