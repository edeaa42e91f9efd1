"""Split a raw log line from the formats this stack sees into level, message and fields.

Pattern mining needs the *message* (a JSON record's envelope or slog's ``time=`` prefix would
make every line unique) and the exporter needs a *level* even for formats that have none (an
access log's level is its status class). Recognised, in order:

* Container runtime wrappers are unwrapped first: Docker's json-file records
  (``{"log": "…", "stream": "stderr"}``) and CRI lines (``<ts> stderr F …``).
* JSON records (our :mod:`exporters.jsonlog`, structlog, most JSON loggers): ``level`` /
  ``levelname`` / ``severity``, ``message`` / ``msg`` / ``event``; the rest are fields.
* logfmt, including Ollama's Go ``slog`` lines (``time=… level=INFO source=… msg="…"``).
* Ollama's GIN access lines and nginx/combined access lines: level from the HTTP status.
* Redis (``1:M 26 Nov 2026 10:00:00.000 # msg``): level from the symbol after the timestamp.
* Kernel lines (``[ 123.45] Out of memory: Killed process …``): OOM kills are errors.
* Syslog lines (``Dec 10 06:55:46 host sshd[24200]: …``): the header is dropped, the rest parsed.
* Anything else (Python ``logging`` text, uvicorn): the first level word near the start.

    >>> parse_line('{"level": "error", "message": "rerank failed", "route": "/v1/chat"}')
    LogLine(level='error', message='rerank failed', fields={'route': '/v1/chat'})
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("debug", "info", "warning", "error", "critical")
_LEVEL_ALIASES = {
    "trace": "debug", "debug": "debug", "dbug": "debug", "verbose": "debug",
    "info": "info", "information": "info", "notice": "info", "informational": "info",
    "warn": "warning", "warning": "warning",
    "err": "error", "error": "error", "eror": "error",
    "critical": "critical", "crit": "critical", "fatal": "critical", "panic": "critical",
    "emerg": "critical", "alert": "critical",
}


def normalise_level(value: Any) -> str:
    """One of :data:`LEVELS`.

    Numeric levels in JSON lines come from pino/bunyan (Node): 10 trace, 20 debug, 30 info,
    40 warn, 50 error, 60 fatal. Python JSON loggers write level names, not numbers.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return LEVELS[min(max(int(value) // 10 - 2, 0), 4)]
    return _LEVEL_ALIASES.get(str(value).strip().lower(), "info")


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


_CRI = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2}) (?:stdout|stderr) [FP] ")
_JSON_LEVEL_KEYS = ("level", "levelname", "severity", "lvl", "log.level")
_JSON_MESSAGE_KEYS = ("message", "msg", "event")
_LOGFMT_PAIR = re.compile(r'([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)')
_LOGFMT_START = re.compile(r"^(?:time|ts|t|timestamp|level|lvl)=")
# Access logs: the named groups become fields, so 5xx lines count as app errors by route.
_GIN = re.compile(r'^\[GIN\] [^|]*\|\s*(?P<status>\d{3})\s*\|.*\|\s*(?P<method>[A-Z]+)\s+"(?P<route>[^"]*)"')
_ACCESS = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<route>\S+)[^"]*" (?P<status>\d{3}) ')
_UVICORN_ACCESS = re.compile(r'^\w+:\s+\S+ - "(?P<method>[A-Z]+) (?P<route>\S+)[^"]*" (?P<status>\d{3})')
_REDIS = re.compile(r"^\d+:[XCSM] \d{1,2} \w{3} \d{4} [\d:.]+ ([.\-*#]) ")
_REDIS_LEVELS = {".": "debug", "-": "debug", "*": "info", "#": "warning"}
_KERNEL = re.compile(r"^(?:\w{3} +\d+ [\d:]+ \S+ kernel: )?\[\s*\d+\.\d+\] ")
# RFC 3164 syslog header: the message starts after "program[pid]: ".
_SYSLOG = re.compile(
    r"^(?P<ts>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) (?P<host>\S+) (?P<program>[^\s\[:]+)(?:\[\d+\])?: "
)
_OOM = re.compile(r"out of memory|oom[-_ ]kill|killed process", re.I)
# Log4j/logback and Python logging text headers: "<date time> [- ]LEVEL [thread] [- ]message".
# The header goes (timestamps and thread names vary per line); the logger name, if any, stays.
_TEXT_HEADER = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?\s+(?:-\s+)?"
    r"(?P<level>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\s+(?:\[(?:[^\[\]]|\[[^\]]*\])*\]\s+)?(?:-\s+)?"
)
_LEVEL_WORD = re.compile(
    r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\b", re.I
)
# Tracebacks arrive line by line in raw files; their lines carry no level word.
_TRACEBACK = re.compile(r'^(?:Traceback \(most recent call last\)|\s+File "|[A-Z]\w*(?:Error|Exception): )')


def _status_level(status: str) -> str:
    return "error" if status[0] == "5" else "warning" if status[0] == "4" else "info"


def _parse_json(line: str) -> LogLine | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("log"), str) and "stream" in record:  # Docker's json-file driver
        return parse_line(record["log"])
    level = next((record.pop(k) for k in _JSON_LEVEL_KEYS if k in record), "info")
    message = next((record.pop(k) for k in _JSON_MESSAGE_KEYS if k in record), "")
    return LogLine(normalise_level(level), str(message), record)


def _unquote(value: str) -> str:
    return value[1:-1].replace('\\"', '"') if value.startswith('"') else value


def _parse_logfmt(line: str) -> LogLine:
    pairs = {k: _unquote(v) for k, v in _LOGFMT_PAIR.findall(line)}
    level = normalise_level(pairs.pop("level", pairs.pop("lvl", "info")))
    for key in ("time", "ts", "t", "timestamp"):
        pairs.pop(key, None)
    message = pairs.pop("msg", pairs.pop("message", ""))
    # The remaining attributes (source=server.go:605, model=…) are part of what makes a template.
    rest = " ".join(f"{k}={v}" for k, v in pairs.items())
    return LogLine(level, f"{message} {rest}".strip(), pairs)


def parse_line(line: str) -> LogLine:
    """Level, message and structured fields of one raw line (see the module docstring)."""
    line = line.rstrip("\r\n")
    if m := _CRI.match(line):  # Kubernetes/containerd: "<ts> stdout F <line>"
        line = line[m.end() :]
    if line.startswith("{") and (parsed := _parse_json(line)) is not None:
        return parsed
    if _LOGFMT_START.match(line) and " msg=" in line:
        return _parse_logfmt(line)
    for pattern in (_GIN, _ACCESS, _UVICORN_ACCESS):
        if m := pattern.match(line):
            return LogLine(_status_level(m.group("status")), line, m.groupdict())
    if m := _REDIS.match(line):
        return LogLine(_REDIS_LEVELS[m.group(1)], line)
    if _KERNEL.match(line):
        return LogLine("error" if _OOM.search(line) else "info", line)
    if m := _SYSLOG.match(line):
        rest = parse_line(line[m.end() :])
        return LogLine(rest.level, rest.message, {"program": m.group("program"), **rest.fields})
    if m := _TEXT_HEADER.match(line):
        return LogLine(normalise_level(m.group("level")), line[m.end() :])
    if m := _LEVEL_WORD.search(line, 0, 64):
        return LogLine(normalise_level(m.group(1)), line)
    if _TRACEBACK.match(line):
        return LogLine("error", line)
    return LogLine("info", line)
