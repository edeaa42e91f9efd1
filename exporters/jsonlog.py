"""Structured JSON log records for apps using stdlib logging or structlog, masked before output.

One JSON object per line, the shape the Loki handler ships and the log exporter reads::

    {"ts": "2026-11-26T23:01:05.123Z", "level": "error", "logger": "rag.api", "message": "...",
     "service": "rag-api", "trace_id": "4bf9…", "span_id": "00f0…", "route": "/v1/chat", ...}

Extra fields (``log.error("x", extra={"route": "/v1/chat", "error_code": "E_TIMEOUT"})`` or
structlog key-values) are kept at the top level so ``llm_sre_app_errors_total{route, error_code}``
can be counted from them. ``trace_id``/``span_id`` come from the record or, failing that, from the
current OpenTelemetry span, so logs join traces without the app passing ids around.

Usage::

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(service="rag-api"))
    configure_structlog()      # structlog apps: events flow into stdlib handlers like the above
    setup_logging(settings)    # exporters.loki: the same JSON, masked, to Loki when LOKI_URL is set
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog
from opentelemetry import trace

from exporters.redact import redact_mapping

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_PRIMITIVES = (str, int, float, bool, type(None))


def record_trace_ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """Trace and span id of a record: explicit ``extra`` ids first, then the active OTel span."""
    trace_id, span_id = getattr(record, "trace_id", None), getattr(record, "span_id", None)
    if trace_id:
        return str(trace_id), str(span_id) if span_id else None
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    return None, None


def _jsonable(value: Any) -> Any:
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """Formats a record as one masked JSON line.

    Masking happens on the field values before serialisation, so the output is always valid
    JSON and secrets in extras (``extra={"password": ...}``) are caught by their key name.
    """

    def __init__(self, service: str = "app") -> None:
        super().__init__()
        self.service = service

    def to_dict(self, record: logging.LogRecord) -> dict[str, Any]:
        """The masked fields of a record, for handlers that ship fields rather than lines."""
        trace_id, span_id = record_trace_ids(record)
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        if trace_id:
            payload["trace_id"] = trace_id
        if span_id:
            payload["span_id"] = span_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in payload:
                payload[key] = _jsonable(value)
        if record.exc_info:
            payload["exception"] = record.exc_text or self.formatException(record.exc_info)
            payload.setdefault("error_type", record.exc_info[0].__name__ if record.exc_info[0] else None)
        if record.stack_info:
            payload["stack"] = record.stack_info
        return redact_mapping(payload)

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.to_dict(record), ensure_ascii=False)


# Logging keyword arguments structlog passes through untouched (``exc_info`` must stay a tuple).
_LOG_KWARGS = frozenset({"exc_info", "stack_info", "stacklevel"})
# structlog keys stdlib logging refuses as ``extra`` ("Attempt to overwrite 'name' in LogRecord").
_RESERVED = _STANDARD - _LOG_KWARGS


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask an event dict (by key name and by content) before rendering."""
    event_dict.update(redact_mapping({k: v for k, v in event_dict.items() if k not in _LOG_KWARGS}))
    return event_dict


def rename_reserved_keys(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: ``name=``, ``module=``, ``args=`` … become ``name_`` and so on.

    stdlib logging raises on an ``extra`` key that is a LogRecord attribute, so an innocent
    ``log.info("login", name=user)`` would lose the event (and raise in the app) without this.
    """
    for key in [k for k in event_dict if k in _RESERVED]:
        event_dict[f"{key}_"] = event_dict.pop(key)
    return event_dict


# The documented chain (docs/exporters.md): request context first, then masking while the values
# are still structured, then the hand-over to stdlib logging, whose handlers — the JSON formatter
# and exporters.loki.LokiHandler — treat structlog events exactly like stdlib records.
STRUCTLOG_PROCESSORS: tuple[Any, ...] = (
    structlog.contextvars.merge_contextvars,
    redact_event,
    rename_reserved_keys,
    structlog.stdlib.render_to_log_kwargs,
)


def configure_structlog() -> None:
    """Route structlog through stdlib logging so the JSON formatter and Loki handler see its events.

    Key-values become ``extra`` fields of the stdlib record; ``bind_contextvars`` values (a
    request's route, a trace id) are merged into every event. Apps that configure structlog
    themselves pass :data:`STRUCTLOG_PROCESSORS` (last in their chain) with
    ``structlog.stdlib.LoggerFactory()``.
    """
    structlog.configure(
        processors=list(STRUCTLOG_PROCESSORS),
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
