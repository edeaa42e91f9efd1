"""Credential-stuffing detection over sliding windows of auth events (pure: events in, detections out).

Four shapes, each a question about *distinct accounts* rather than raw failure counts, because a
stuffing list tries each account once or twice while a forgetful user retries one account:

* ``single_source`` - one source fails on many distinct accounts within the window;
* ``distributed``   - many sources sharing a fingerprint (user agent, /24 or /64 subnet) fail on
  many distinct accounts, each source on few, with almost no successes;
* ``low_and_slow``  - the same as either, spread over hours so no short window sees it;
* ``compromise``    - a success on an account right after a burst of failures on it, or from a
  source already caught stuffing: the likely takeover, the highest severity.

Benign shapes stay quiet by construction: one user mistyping (one account, few failures), a
password-reset wave (reset events are not login failures, and users retry their own account, so
distinct-accounts-per-failure stays low), and allow-listed sources (a load test) are skipped.

    detector = Detector(Thresholds(), allow=["10.0.0.0/8"])
    for event in events:
        for found in detector.feed(event):
            print(found.shape, found.key)
"""

from __future__ import annotations

import ipaddress
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from security.events import AuthEvent

Shape = Literal["single_source", "distributed", "low_and_slow", "compromise"]
SHAPES: tuple[Shape, ...] = ("single_source", "distributed", "low_and_slow", "compromise")
SEVERITY = {
    "single_source": "warning",
    "distributed": "warning",
    "low_and_slow": "warning",
    "compromise": "critical",
}
# A stuffing list tries an account once or twice; someone who forgot a password retries theirs.
MIN_SPREAD = 0.7  # distinct accounts per failure
MIN_FAILURE_RATIO = 0.9  # failures per attempt under one key
MAX_KEYS = 50_000  # per index; the least recently seen keys are dropped beyond it


@dataclass(frozen=True)
class Thresholds:
    window: float = 600.0
    slow_window: float = 21600.0
    source_accounts: int = 10
    distributed_accounts: int = 12
    distributed_sources: int = 5
    slow_accounts: int = 20
    burst_failures: int = 8


@dataclass(frozen=True)
class Detection:
    shape: Shape
    ts: float
    key_kind: Literal["source", "user_agent", "subnet", "account"]
    key: str  # an IP, user agent, subnet or account: for the API and logs only, never a label
    accounts: int
    sources: int
    failures: int
    source: str  # the source of the event that triggered it

    @property
    def severity(self) -> str:
        return SEVERITY[self.shape]


@dataclass
class _Window:
    """Attempts under one key within ``span`` seconds, with distinct accounts and sources."""

    span: float
    events: deque[tuple[float, str | None, str, bool]] = field(default_factory=deque)
    accounts: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    anonymous: int = 0  # failures naming no account (access logs): counted as distinct attempts

    def add(self, ev: AuthEvent) -> None:
        failed = ev.outcome == "failure"
        self.events.append((ev.ts, ev.user, ev.source, failed))
        self.sources[ev.source] += 1
        if failed:
            self.failures += 1
            if ev.user is None:
                self.anonymous += 1
            else:
                self.accounts[ev.user] += 1

    def prune(self, now: float) -> None:
        while self.events and self.events[0][0] < now - self.span:
            _, user, source, failed = self.events.popleft()
            self.sources[source] -= 1
            if not self.sources[source]:
                del self.sources[source]
            if failed:
                self.failures -= 1
                if user is None:
                    self.anonymous -= 1
                else:
                    self.accounts[user] -= 1
                    if not self.accounts[user]:
                        del self.accounts[user]

    @property
    def distinct_accounts(self) -> int:
        return len(self.accounts) + self.anonymous

    def stuffing(self, accounts: int) -> bool:
        """Many distinct accounts, tried about once each, almost never successfully."""
        attempts = len(self.events)
        return (
            self.distinct_accounts >= accounts
            and self.failures >= MIN_FAILURE_RATIO * attempts
            and self.distinct_accounts >= MIN_SPREAD * self.failures
        )


class _Index:
    """Windows per key, least recently used dropped beyond :data:`MAX_KEYS`."""

    def __init__(self, span: float) -> None:
        self.span = span
        self.windows: dict[str, _Window] = {}

    def add(self, key: str, ev: AuthEvent) -> _Window:
        window = self.windows.pop(key, None) or _Window(self.span)
        self.windows[key] = window  # re-inserted: dict order is recency
        window.add(ev)
        window.prune(ev.ts)
        if len(self.windows) > MAX_KEYS:
            del self.windows[next(iter(self.windows))]
        return window


def subnet(ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class Detector:
    """Feed events in time order; each call returns the detections the event completes."""

    def __init__(self, thresholds: Thresholds = Thresholds(), allow: Iterable[str] = ()) -> None:
        self.t = thresholds
        self.allow = [ipaddress.ip_network(a, strict=False) for a in allow]
        self.fast = {k: _Index(thresholds.window) for k in ("source", "user_agent", "subnet")}
        self.slow = {k: _Index(thresholds.slow_window) for k in ("source", "user_agent", "subnet")}
        self.accounts = _Index(thresholds.window)
        self.flagged: dict[str, float] = {}  # sources caught stuffing → when
        self.reported: dict[tuple[str, str], float] = {}  # (shape, key) → last report

    def allowed(self, source: str) -> bool:
        try:
            addr = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(addr in net for net in self.allow)

    def _keys(self, ev: AuthEvent) -> dict[str, str]:
        keys = {"source": ev.source}
        if ev.agent:
            keys["user_agent"] = ev.agent
        if net := subnet(ev.source):
            keys["subnet"] = net
        return keys

    def _report(
        self, out: list[Detection], shape: Shape, kind: str, key: str, w: _Window, ev: AuthEvent, quiet: float
    ) -> None:
        last = self.reported.get((shape, key))
        if last is not None and ev.ts - last < quiet:
            return
        self.reported[(shape, key)] = ev.ts
        out.append(
            Detection(
                shape,
                ev.ts,
                kind,
                key,
                w.distinct_accounts,
                len(w.sources),
                w.failures,  # type: ignore[arg-type]
                ev.source,
            )
        )

    def feed(self, ev: AuthEvent) -> list[Detection]:
        if ev.kind != "login" or self.allowed(ev.source):
            return []
        out: list[Detection] = []
        windows = {
            kind: (self.fast[kind].add(key, ev), self.slow[kind].add(key, ev), key)
            for kind, key in self._keys(ev).items()
        }
        for kind, (fast, _, key) in windows.items():
            if kind == "source" and fast.stuffing(self.t.source_accounts):
                self._report(out, "single_source", kind, key, fast, ev, self.t.window)
                self.flagged[ev.source] = ev.ts
            elif (
                kind != "source"
                and len(fast.sources) >= self.t.distributed_sources
                and fast.stuffing(self.t.distributed_accounts)
            ):
                self._report(out, "distributed", kind, key, fast, ev, self.t.window)
                self.flagged[ev.source] = ev.ts
        # Slow only where nothing fast explains it: a fast attack's agent and subnet also add up
        # over hours, and one attack should page once.
        fast_source = ev.ts - self.flagged.get(ev.source, -1e18) <= self.t.slow_window
        for kind, (_, slow, key) in windows.items():
            if not fast_source and slow.stuffing(self.t.slow_accounts):
                self._report(out, "low_and_slow", kind, key, slow, ev, self.t.slow_window)
        if out:
            self.flagged[ev.source] = ev.ts
        if ev.user is not None:
            self._account(ev, out)
        return out

    def _account(self, ev: AuthEvent, out: list[Detection]) -> None:
        w = self.accounts.add(ev.user or "", ev)
        if ev.outcome != "success":
            return
        flagged_at = self.flagged.get(ev.source)
        burst = w.failures >= self.t.burst_failures or (len(w.sources) >= 3 and w.failures >= 4)
        if burst or (flagged_at is not None and ev.ts - flagged_at <= self.t.slow_window):
            self._report(out, "compromise", "account", ev.user or "", w, ev, self.t.window)

    def scan(self, events: Iterable[AuthEvent]) -> list[Detection]:
        """Every detection of ``events`` (sorted by time first: files interleave sources)."""
        return [d for ev in sorted(events, key=lambda e: e.ts) for d in self.feed(ev)]
