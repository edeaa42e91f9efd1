"""Secrets seen in logs: what the masker caught, as a security finding — never the secret itself.

A secret in a log line is masked before it is shipped or stored (:mod:`exporters.redact`), but the
application still wrote it: someone logged a token, and it may sit unmasked in files, backups and
other sinks. The log exporter passes every line through :class:`SecretsWatch`, which counts the
markers the masker adds as ``llm_sre_log_secrets_total{service, kind}`` (the ``SecretsInLogs``
alert) and keeps, per (service, kind), how many and when first and last seen, in
``$LLM_SRE_DATA_DIR/secrets.json`` for the security analyst. Only the kind (``aws_access_key``,
``jwt``, ``password`` …) is kept; the value never leaves the masker.

    watch = SecretsWatch(registry, data_dir=Path("data"))
    watch.observe('{"msg": "login", "password": "hunter2"}', "auth-api")
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from clustering.store import load_json, save_json
from exporters.catalogue import metrics
from exporters.labels import BoundedLabel
from exporters.redact import new_secret_kinds, redact

FILE = "secrets.json"


class SecretsWatch:
    """Counts secrets the masker replaces in each line; remembers first/last seen per (service, kind)."""

    def __init__(
        self,
        registry: CollectorRegistry | None,
        *,
        data_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        save_every: float = 5.0,
    ) -> None:
        self._counter = metrics(registry)["llm_sre_log_secrets_total"]
        self._kinds = BoundedLabel(limit=30)  # the masker's kinds are a fixed set; this is a backstop
        self.data_dir, self._clock, self._save_every = data_dir, clock, save_every
        self.seen: dict[tuple[str, str], dict[str, Any]] = {}
        self._saved_at = float("-inf")
        self._lock = threading.Lock()

    def observe(self, line: str, service: str | None = None) -> Counter[str]:
        found = new_secret_kinds(line, redact(line))
        if found:
            self.record(found, service or "app")
        return found

    def record(self, found: Counter[str], service: str) -> None:
        """Count ``found``; the file is rewritten when a (service, kind) is new, else at most every
        ``save_every`` seconds (Prometheus has the exact count; the file is for first seen)."""
        now = self._clock()
        new = False
        with self._lock:
            for kind, n in found.items():
                label = self._kinds(kind)
                self._counter.labels(service=service, kind=label).inc(n)
                new |= (service, label) not in self.seen
                entry = self.seen.setdefault((service, label), {"count": 0, "firstSeen": now})
                entry["count"] += n
                entry["lastSeen"] = now
        if new or now - self._saved_at >= self._save_every:
            self.save()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            items = sorted(self.seen.items(), key=lambda kv: kv[1]["firstSeen"])
            return {
                "secrets": [
                    {
                        "service": service,
                        "kind": kind,
                        "count": v["count"],
                        "firstSeen": _iso(v["firstSeen"]),
                        "lastSeen": _iso(v["lastSeen"]),
                    }
                    for (service, kind), v in items
                ]
            }

    def save(self) -> None:
        self._saved_at = self._clock()
        if self.data_dir is not None:
            save_json(self.data_dir, FILE, self.snapshot())


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def load_secrets(data_dir: Path) -> dict[str, Any] | None:
    return load_json(data_dir, FILE)
