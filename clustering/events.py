"""Wide events: one error or warning log line summarised as template + service + route + code.

Clustering compares *what went wrong*, so the text that gets embedded is the masked template,
the error code and the names of the key fields — not the service, which is exactly what differs
between two services hitting the same database limit. Service, route and trace ids ride along as
attributes of the incident.

    events, stats = read_events(open("app.log"), default_service="rag-api")
    events[0].text  # 'connection pool exhausted after <NUM> code=E_POOL'
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from exporters.log_exporter import normalise_route
from exporters.logline import LogLine, parse_line
from exporters.redact import redact

LEVELS = frozenset({"warning", "error", "critical"})
_SERVICE_KEYS = ("service", "service.name", "app", "program", "logger", "container")
_ROUTE_KEYS = ("route", "http.route", "path", "url.path", "endpoint")
_CODE_KEYS = ("error_code", "code", "error_type", "error.type", "status", "status_code", "http.status_code")
_TRACE_KEYS = ("trace_id", "request_id", "traceId", "requestId", "trace.id", "correlation_id")
_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "t")
MAX_MESSAGE = 500
# Lighter than the pattern miner's masking on purpose: that one drops an exception's message
# ("OSError: <MSG>"), which is exactly the text that says what went wrong. Here only values that
# vary per occurrence go: UUIDs, hex ids, IPs, numbers, and host names that look generated.
_HOST_SUFFIX = r"(?:svc|internal|local|lan|cluster|example|com|net|org|io|cloud|amazonaws)"
_VARIABLE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"
    rf"|(?<![\w.-])[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*\.{_HOST_SUFFIX}(?::\d+)?(?![\w.(])"
    r"|(?<![\w.-])[a-z][a-z0-9]*-\d+(?:\.[a-z0-9-]+)+(?![\w.(])"
    r"|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b"
    r"|(?<!\w)\d+(?:\.\d+)*"
)


def template(message: str) -> str:
    """``message`` with its per-occurrence values replaced by ``<V>``."""
    return _VARIABLE.sub("<V>", message)


@dataclass(frozen=True)
class WideEvent:
    line_no: int
    level: str
    service: str
    route: str
    code: str
    message: str  # masked for secrets, cut to MAX_MESSAGE
    template: str  # variable parts replaced by <NUM>, <IP> …
    trace_id: str | None = None
    time: datetime | None = None

    @property
    def text(self) -> str:
        """What the embedder sees: the template and the error code, never the service."""
        return f"{self.template} code={self.code}" if self.code else self.template


@dataclass
class ReadStats:
    lines: int = 0
    unparseable: int = 0  # broken JSON, binary garbage: counted and skipped
    ignored: int = 0  # parsed fine but below warning level
    reasons: dict[str, int] = field(default_factory=dict)


def _first(fields: dict, keys: Iterable[str]) -> str:
    return next((str(fields[k]) for k in keys if fields.get(k) not in (None, "")), "")


def _time(fields: dict) -> datetime | None:
    raw = _first(fields, _TIME_KEYS)
    if not raw:
        return None
    try:
        value = float(raw)
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unparseable(line: str) -> str | None:
    """Why a line cannot be used at all, or ``None``: the reasons the CLI reports."""
    if "\x00" in line or "\ufffd" in line:
        return "binary"
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            json.loads(stripped)
        except ValueError:
            return "invalid_json"
    return None


def wide_event(line_no: int, parsed: LogLine, default_service: str) -> WideEvent:
    fields = parsed.fields
    route = _first(fields, _ROUTE_KEYS)
    message = parsed.message
    rest = " ".join(f"{k}={v}" for k, v in fields.items())
    if rest and message.endswith(" " + rest):  # logfmt: the parser appends the attributes
        message = message[: -len(rest) - 1]
    message = redact(message)[:MAX_MESSAGE]
    return WideEvent(
        line_no=line_no,
        level=parsed.level,
        service=_first(fields, _SERVICE_KEYS) or default_service,
        route=normalise_route(route) if route else "",
        code=_first(fields, _CODE_KEYS)[:64],
        message=message,
        template=template(message),
        trace_id=_first(fields, _TRACE_KEYS)[:128] or None,
        time=_time(fields),
    )


def read_events(lines: Iterable[str], default_service: str = "app") -> tuple[list[WideEvent], ReadStats]:
    """Warning-and-above events of ``lines``; everything else is counted in the stats."""
    stats, events = ReadStats(), []
    for line_no, line in enumerate(lines, start=1):
        stats.lines += 1
        if not line.strip():
            continue
        if reason := unparseable(line):
            stats.unparseable += 1
            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
            continue
        parsed = parse_line(line)
        if parsed.level not in LEVELS:
            stats.ignored += 1
            continue
        events.append(wide_event(line_no, parsed, default_service))
    return events, stats


def open_input(name: str) -> contextlib.AbstractContextManager[IO[Any]]:
    """``name`` opened for reading (``-`` is stdin, left open); a missing file is a clear exit."""
    if name == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return Path(name).open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SystemExit(f"cannot read {name}: {exc.strerror}") from exc
