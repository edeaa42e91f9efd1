"""One push to Loki and what came of it: the part the handler, ``logs replay`` and the DLQ share.

A push either lands, or fails with a classified cause (:mod:`exporters.failures`) whose action
is applied here where it can be: a batch too large is split in halves, entries over Loki's line
limit are truncated to the size Loki names in its answer and sent once more. What is left is
either *pending* (retry later: Loki is down, slow or rate limiting) or *parked* (a dead letter:
the same bytes would be refused again).
"""

from __future__ import annotations

import email.utils
import gzip
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics
from exporters.failures import Action, Failure, classify_exception, classify_response

PUSH_PATH = "/loki/api/v1/push"
READY_PATH = "/ready"
TRUNCATED = "…[truncated]"
_MAX_ENTRY = re.compile(r"max entry size '(\d+)' bytes", re.I)


@dataclass(frozen=True)
class Entry:
    """One log line as Loki stores it, plus its level (for priority drops; never sent)."""

    ns: str
    line: str
    metadata: dict[str, str]
    level: int

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"ts": self.ns, "line": self.line, "lv": self.level}
        if self.metadata:
            row["md"] = self.metadata
        return row

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Entry:
        ns, line = row["ts"], row["line"]
        if not (isinstance(ns, str) and ns.isdigit() and isinstance(line, str)):
            raise ValueError("entry needs a digit-string ts and a string line")
        return cls(ns, line, dict(row.get("md") or {}), int(row.get("lv", 0)))


def fit(line: str, limit: int) -> str:
    """``line`` cut to at most ``limit`` UTF-8 bytes, marked as truncated."""
    raw = line.encode()
    if len(raw) <= limit:
        return line
    keep = max(0, limit - len(TRUNCATED.encode()))
    return raw[:keep].decode(errors="ignore") + TRUNCATED


def retry_after(value: str | None, cap: float = 300.0) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") raises
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), cap)


@dataclass
class Outcome:
    sent: int = 0
    pending: list[Entry] = field(default_factory=list)
    retry: Failure | None = None
    parked: list[tuple[list[Entry], Failure]] = field(default_factory=list)

    def merge(self, other: Outcome) -> Outcome:
        return Outcome(self.sent + other.sent, self.pending + other.pending, self.retry or other.retry,
                       self.parked + other.parked)


class Pusher:
    """Pushes one stream's entries as gzipped JSON; classifies and handles failures.

    >>> pusher = Pusher(httpx.Client(), "http://loki:3100", {"service": "api", "env": "prod"})
    >>> outcome = pusher.push(entries)
    """

    def __init__(self, client: httpx.Client, base_url: str, labels: Mapping[str, str], *,
                 tenant: str | None = None, registry: CollectorRegistry | None = None) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.labels = dict(labels)
        self.headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if tenant:
            self.headers["X-Scope-OrgID"] = tenant
        self._failures = metrics(registry)["llm_sre_loki_push_failures_total"]

    def body(self, entries: Sequence[Entry]) -> bytes:
        values = [[e.ns, e.line, e.metadata] if e.metadata else [e.ns, e.line] for e in entries]
        payload = {"streams": [{"stream": self.labels, "values": values}]}
        return gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), compresslevel=5)

    def ready(self, timeout: float | None = None) -> bool:
        """Loki's ``/ready`` answers 200 (a reverse proxy in front may 404 it: then try a push)."""
        try:
            status = self.client.get(self.base_url + READY_PATH, timeout=timeout).status_code
        except httpx.HTTPError:
            return False
        return status == 200 or status == 404

    def push(self, entries: list[Entry], *, timeout: float | None = None, truncated: bool = False) -> Outcome:
        try:
            kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            response = self.client.post(self.base_url + PUSH_PATH, content=self.body(entries),
                                        headers=self.headers, **kwargs)
        except Exception as exc:
            failure = classify_exception(exc)
        else:
            if response.status_code < 300:
                return Outcome(sent=len(entries))
            failure = classify_response(response.status_code, response.text,
                                        retry_after(response.headers.get("Retry-After")))
        self._failures.labels(cause=failure.cause.value).inc()
        return self._handle(entries, failure, timeout, truncated)

    def _handle(self, entries: list[Entry], failure: Failure, timeout: float | None,
                truncated: bool) -> Outcome:
        if failure.action is Action.RETRY:
            return Outcome(pending=entries, retry=failure)
        if failure.action is Action.SPLIT and len(entries) > 1:
            half = len(entries) // 2
            first = self.push(entries[:half], timeout=timeout, truncated=truncated)
            if first.retry is not None:  # keep order: do not send the second half ahead of the first
                return first.merge(Outcome(pending=entries[half:]))
            return first.merge(self.push(entries[half:], timeout=timeout, truncated=truncated))
        if failure.action is Action.TRUNCATE and not truncated:
            match = _MAX_ENTRY.search(failure.detail)
            limit = int(match.group(1)) if match else max(len(e.line.encode()) for e in entries) // 2
            cut = [Entry(e.ns, fit(e.line, limit), e.metadata, e.level) for e in entries]
            return self.push(cut, timeout=timeout, truncated=True)
        return Outcome(parked=[(entries, failure)])
