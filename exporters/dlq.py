"""Dead letters of the Loki pipeline: parked batches, one JSON file each, grouped by failure cause.

``<dlq>/<cause>/<time>-<pid>-<n>.json`` holds ``{labels, cause, detail, status, parked_at,
entries}``. Nothing is parked that a retry would fix by itself (those wait in the spill); a
dead letter needs a decision: fix the cause (raise Loki's ``max_line_size``, widen
``reject_old_samples_max_age``, fix a label) and ``llm-sre logs dlq retry``, or
``llm-sre logs dlq drop``. A retry that fails again is re-filed under its new cause.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics
from exporters.failures import Cause, Failure
from exporters.loki_push import Entry, Outcome

_COUNTER = itertools.count()


@dataclass(frozen=True)
class Letter:
    path: Path
    labels: dict[str, str]
    cause: str
    detail: str
    entries: list[Entry]


@dataclass
class RetryReport:
    sent: int = 0
    requeued: dict[str, int] = field(default_factory=dict)  # cause -> records parked again
    waiting: int = 0  # records left in place because Loki is unavailable


class DeadLetters:
    """Park, list, retry and drop dead-letter batches under ``root``.

    >>> dlq = DeadLetters(Path("data/loki-dlq"))
    >>> dlq.park({"service": "api"}, entries, failure)
    >>> dlq.counts()        # {"too_old": (files, records), ...}
    """

    def __init__(self, root: Path, registry: CollectorRegistry | None = None) -> None:
        self.root = root
        self._parked = metrics(registry)["llm_sre_loki_dead_letters_total"]

    def park(self, labels: Mapping[str, str], entries: list[Entry], failure: Failure) -> Path:
        directory = self.root / failure.cause.value
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns():020d}-{os.getpid()}-{next(_COUNTER)}.json"
        body = {"labels": dict(labels), "cause": failure.cause.value, "detail": failure.detail,
                "status": failure.status, "parked_at": time.time(),
                "entries": [e.to_json() for e in entries]}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, ensure_ascii=False))
        os.replace(tmp, path)
        self._parked.labels(cause=failure.cause.value).inc(len(entries))
        return path

    def letters(self, cause: str | None = None) -> list[Letter]:
        """Parked batches, oldest first; unreadable files are skipped (they stay for inspection)."""
        letters = []
        for path in sorted(self.root.glob(f"{cause or '*'}/*.json"), key=lambda p: p.name):
            try:
                data: dict[str, Any] = json.loads(path.read_text())
                entries = [Entry.from_json(row) for row in data["entries"]]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            letters.append(Letter(path, dict(data["labels"]), str(data["cause"]), str(data.get("detail", "")),
                                  entries))
        return letters

    def counts(self) -> dict[str, tuple[int, int]]:
        """cause -> (batches, records)."""
        result: dict[str, tuple[int, int]] = {}
        for letter in self.letters():
            files, records = result.get(letter.cause, (0, 0))
            result[letter.cause] = (files + 1, records + len(letter.entries))
        return result

    def retry(self, push: Callable[[Mapping[str, str], list[Entry]], Outcome],
              cause: str | None = None) -> RetryReport:
        """Push each parked batch again; delivered ones are deleted, re-failed ones re-filed."""
        report = RetryReport()
        letters = self.letters(cause)
        for i, letter in enumerate(letters):
            outcome = push(letter.labels, letter.entries)
            report.sent += outcome.sent
            if outcome.retry is not None:  # Loki unavailable: leave this and the rest for later
                report.waiting = sum(len(x.entries) for x in letters[i:])
                return report
            letter.path.unlink(missing_ok=True)
            for entries, failure in outcome.parked:
                self.park(letter.labels, entries, failure)
                cause_name = failure.cause.value
                report.requeued[cause_name] = report.requeued.get(cause_name, 0) + len(entries)
        return report

    def drop(self, cause: str | None = None) -> int:
        """Delete parked batches (of one cause); returns the records dropped."""
        dropped = 0
        for letter in self.letters(cause):
            letter.path.unlink(missing_ok=True)
            dropped += len(letter.entries)
        return dropped


CAUSES = tuple(c.value for c in Cause)
