"""Credential-stuffing detection on a live log stream: the log exporter's hook and the CLI's engine.

Counters stay bounded: outcomes and detection shapes are the only labels. How many distinct
accounts and sources are failing is a HyperLogLog estimate (datasketch), so a million sprayed
usernames cost a few kilobytes and never reach a label. Who is attacking (sources, accounts) goes
to the detections file the API serves and to the log — never to a metric.

    watch = CredentialWatch(registry, Detector(Thresholds()), data_dir=Path("data"))
    watch.observe('Dec 10 06:55:46 host sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2')
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from datasketch import HyperLogLog
from prometheus_client import CollectorRegistry

from clustering.store import load_json, save_json
from exporters.catalogue import metrics
from security.detector import Detection, Detector, Thresholds
from security.events import AuthEvent, parse_auth

log = logging.getLogger(__name__)
FILE = "security.json"
KEEP = 200  # detections kept for the API


def mask_account(account: str) -> str:
    """``alice@example.com`` → ``a***@example.com``: enough to recognise, not to reuse."""
    name, at, domain = account.partition("@")
    return f"{name[:1]}***{at}{domain}" if name else "***"


def detection_json(d: Detection) -> dict[str, Any]:
    out = asdict(d) | {"severity": d.severity}
    if d.key_kind == "account":
        out["key"] = mask_account(d.key)
    return out


class _DistinctWindow:
    """Distinct values seen in the current and previous window: two HyperLogLogs, rotated."""

    def __init__(self, span: float) -> None:
        self.span, self.started = span, 0.0
        self.current, self.previous = HyperLogLog(p=12), HyperLogLog(p=12)

    def add(self, value: str, now: float) -> None:
        if now - self.started >= self.span:
            self.previous, self.current, self.started = self.current, HyperLogLog(p=12), now
        self.current.update(value.encode())

    def estimate(self) -> float:
        merged = HyperLogLog(p=12)
        merged.merge(self.current)
        merged.merge(self.previous)
        return round(merged.count())


class CredentialWatch:
    def __init__(
        self,
        registry: CollectorRegistry | None,
        detector: Detector,
        *,
        data_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        m = metrics(registry)
        self._events = m["llm_sre_auth_events_total"]
        self._detections = m["llm_sre_credential_stuffing_detections_total"]
        self._accounts_gauge = m["llm_sre_auth_failed_accounts"]
        self._sources_gauge = m["llm_sre_auth_failing_sources"]
        self.detector, self.data_dir, self._clock = detector, data_dir, clock
        span = detector.t.window
        self._accounts, self._sources = _DistinctWindow(span), _DistinctWindow(span)
        self.recent: deque[Detection] = deque(maxlen=KEEP)
        self.offenders: Counter[str] = Counter()
        self._lock = threading.Lock()

    def observe(self, line: str, service: str | None = None) -> list[Detection]:
        event = parse_auth(line, now=self._clock())
        return self.feed(event, service or "app") if event is not None else []

    def feed(self, event: AuthEvent, service: str = "app") -> list[Detection]:
        """``service`` is a bounded label (the log exporter's); detections are counted under it."""
        with self._lock:
            self._events.labels(service=service, outcome=event.outcome, kind=event.kind).inc()
            if event.outcome == "failure" and event.kind == "login":
                self._accounts.add(event.user or f"?{event.source}", event.ts)
                self._sources.add(event.source, event.ts)
                self._accounts_gauge.set(self._accounts.estimate())
                self._sources_gauge.set(self._sources.estimate())
                if len(self.offenders) < 10_000 or event.source in self.offenders:
                    self.offenders[event.source] += 1
            found = self.detector.feed(event)
            for d in found:
                self._detections.labels(service=service, shape=d.shape).inc()
                self.recent.append(d)
                log.warning(
                    "credential stuffing (%s): %s %s, %d accounts from %d sources",
                    d.shape,
                    d.key_kind,
                    detection_json(d)["key"],
                    d.accounts,
                    d.sources,
                )
            if found:
                self.save()
        return found

    def snapshot(self, top: int = 10) -> dict[str, Any]:
        return {
            "detections": [detection_json(d) for d in self.recent],
            "topOffenders": [{"source": s, "failures": n} for s, n in self.offenders.most_common(top)],
        }

    def save(self) -> None:
        if self.data_dir is not None:
            save_json(self.data_dir, FILE, self.snapshot())


def load_detections(data_dir: Path) -> dict[str, Any] | None:
    return load_json(data_dir, FILE)


def thresholds(settings: Any) -> Thresholds:
    """:class:`Thresholds` from :class:`security.settings.SecuritySettings`."""
    return Thresholds(
        window=settings.window_seconds,
        slow_window=settings.slow_window_seconds,
        source_accounts=settings.source_accounts,
        distributed_accounts=settings.distributed_accounts,
        distributed_sources=settings.distributed_sources,
        slow_accounts=settings.slow_accounts,
        burst_failures=settings.burst_failures,
    )
