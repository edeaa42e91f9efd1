"""Auth events from the shapes they are logged in: JSON app logs, nginx/Apache access logs, sshd.

    parse_auth('Dec 10 06:55:46 host sshd[24200]: Failed password for root from 203.0.113.9 port 22 ssh2')
    # AuthEvent(ts=..., user='root', source='203.0.113.9', outcome='failure', agent='', kind='login')

Lines that are not auth events give ``None``; access-log lines name no account unless the server
logs ``$remote_user``, so those attempts count toward a source's volume but not its accounts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["success", "failure"]
Kind = Literal["login", "reset"]


@dataclass(frozen=True)
class AuthEvent:
    ts: float
    user: str | None
    source: str
    outcome: Outcome
    agent: str = ""
    kind: Kind = "login"


_LOGIN_ROUTE = re.compile(
    r"/(?:login|log-in|signin|sign-in|sign_in|auth|authenticate|session|sessions|token|"
    r"oauth2?/token|wp-login\.php|account/login|users/sign_in)\b",
    re.I,
)
_RESET_ROUTE = re.compile(r"(?:password[-_/]?reset|reset[-_/]?password|forgot[-_/]?password|/recover)", re.I)
_ACCESS = re.compile(
    r'^(?P<ip>[0-9a-fA-F.:]+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3}) \S+(?: "[^"]*" "(?P<agent>[^"]*)")?'
)
_SYSLOG_TS = re.compile(
    r"^(?P<ts>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?) "
)
_SSHD = re.compile(
    r"sshd\[\d+\]: (?:(?P<fail>Failed (?:password|publickey|keyboard-interactive/pam) for (?:invalid user )?)"
    r"|(?P<ok>Accepted (?:password|publickey|keyboard-interactive/pam) for )|(?P<invalid>Invalid user ))"
    r"(?P<user>\S*) from (?P<ip>[0-9a-fA-F.:]+)"
)
_USER_KEYS = ("user", "username", "account", "email", "login", "user_name", "user.name", "principal")
_IP_KEYS = (
    "ip",
    "client_ip",
    "remote_addr",
    "src_ip",
    "source_ip",
    "client.address",
    "source.ip",
    "remote_ip",
)
_AGENT_KEYS = ("user_agent", "ua", "http.user_agent", "user_agent.original", "agent")
_OUTCOME_KEYS = ("outcome", "result", "status", "event.outcome", "auth_result")
_EVENT_KEYS = ("event", "action", "event.action", "message", "msg", "type")
_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp")
_FAIL_WORDS = re.compile(r"fail|denied|invalid|reject|wrong|bad|locked|error|unauthori", re.I)
_OK_WORDS = re.compile(r"succe|ok\b|accept|allow|logged.?in|granted|authenticated", re.I)
_AUTH_WORDS = re.compile(r"login|log.?in|logged.?in|sign.?in|auth|password|credential|session", re.I)


def _epoch(raw: Any, year: int) -> float | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return raw / 1000 if raw > 1e11 else float(raw)
    text = str(raw).strip()
    for fmt in ("%d/%b/%Y:%H:%M:%S %z", "%b %d %H:%M:%S"):
        try:
            parsed = datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:  # syslog has neither year nor zone: the caller's year, UTC
            parsed = parsed.replace(year=year, tzinfo=UTC)
        return parsed.timestamp()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _first(record: dict, keys: tuple[str, ...]) -> Any:
    return next((record[k] for k in keys if record.get(k) not in (None, "")), None)


def _outcome(record: dict, text: str) -> Outcome | None:
    value = _first(record, ("success", "ok", "authenticated"))
    if isinstance(value, bool):
        return "success" if value else "failure"
    raw = _first(record, _OUTCOME_KEYS)
    for candidate in (str(raw) if raw is not None else "", text):
        if isinstance(raw, int) and candidate == str(raw):  # an HTTP status
            return "failure" if raw in (401, 403, 429) else "success" if raw < 400 else None
        if _FAIL_WORDS.search(candidate):
            return "failure"
        if _OK_WORDS.search(candidate):
            return "success"
    return None


def _from_json(record: dict, now: float, year: int) -> AuthEvent | None:
    text = " ".join(str(record[k]) for k in _EVENT_KEYS if isinstance(record.get(k), str))
    route = str(_first(record, ("route", "path", "url.path", "http.route")) or "")
    if not (_AUTH_WORDS.search(text) or _LOGIN_ROUTE.search(route) or _RESET_ROUTE.search(route + text)):
        return None
    source = _first(record, _IP_KEYS)
    outcome = _outcome(record, text)
    if source is None or outcome is None:
        return None
    user = _first(record, _USER_KEYS)
    ts = _epoch(_first(record, _TIME_KEYS), year) if _first(record, _TIME_KEYS) is not None else None
    kind: Kind = "reset" if _RESET_ROUTE.search(route + " " + text) else "login"
    return AuthEvent(
        ts if ts is not None else now,
        str(user) if user is not None else None,
        str(source),
        outcome,
        str(_first(record, _AGENT_KEYS) or ""),
        kind,
    )


def _from_access(m: re.Match[str], now: float, year: int) -> AuthEvent | None:
    path = m.group("path")
    reset = bool(_RESET_ROUTE.search(path))
    if not reset and not (_LOGIN_ROUTE.search(path) and m.group("method") in ("POST", "PUT")):
        return None
    status = int(m.group("status"))
    if status >= 500 or (status >= 400 and status not in (401, 403, 429)):
        return None
    user = m.group("user")
    return AuthEvent(
        _epoch(m.group("ts"), year) or now,
        None if user == "-" else user,
        m.group("ip"),
        "failure" if status >= 400 else "success",
        m.group("agent") or "",
        "reset" if reset else "login",
    )


def parse_auth(line: str, *, now: float = 0.0, year: int | None = None) -> AuthEvent | None:
    """The auth event in ``line``, or ``None``. ``now`` stands in for lines without a timestamp."""
    year = year or datetime.now(UTC).year
    line = line.strip()
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            return None
        return _from_json(record, now, year) if isinstance(record, dict) else None
    if m := _ACCESS.match(line):
        return _from_access(m, now, year)
    if m := _SSHD.search(line):
        ts_match = _SYSLOG_TS.match(line)
        ts = _epoch(ts_match.group("ts"), year) if ts_match else None
        return AuthEvent(
            ts if ts is not None else now,
            m.group("user") or None,
            m.group("ip"),
            "success" if m.group("ok") else "failure",
        )
    return None
