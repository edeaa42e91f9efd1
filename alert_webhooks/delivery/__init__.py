"""Sinks an incident is delivered to, behind one small protocol.

A notifier is an async generator: it brings one sink up to date with an incident and yields the
sink's new :class:`DeliveryState` after every external side effect, so the worker can persist each
step before the next one. A crash between steps then resumes after the last recorded step instead
of repeating it (one Slack message, one annotation).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Literal, Protocol

from alert_webhooks.incidents import DeliveryState, Incident

#: why a delivery failed, worst first (a dead letter records the worst of its sinks' causes)
Cause = Literal["local_bug", "rejected", "server_error", "rate_limited", "network"]
CAUSES: tuple[Cause, ...] = ("local_bug", "rejected", "server_error", "rate_limited", "network")
_STATUS = re.compile(r"\b([1-5]\d\d)\b")


class DeliveryError(Exception):
    """A failure worth retrying (5xx, 429, timeout, connection refused)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(Exception):
    """A failure a retry cannot fix (a 4xx other than 429): dead-letter at once."""


class Notifier(Protocol):
    #: key of the sink's state in the store ("slack", "grafana")
    sink: str
    #: value of the ``sink`` metric label ("slack", "grafana", "outbox")
    metric_sink: str

    def deliver(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]: ...


def cause_of(exc: BaseException) -> Cause:
    """Classify a failure for the dead-letter queue and its metric.

    The notifiers describe HTTP failures as "… HTTP 503" (slack) or "… GrafanaServerError 503"
    (grafana) and raise DeliveryError for network trouble; the status in the message decides.
    Anything that is not a delivery error is our own bug (a payload the code did not expect).
    """
    if isinstance(exc, PermanentDeliveryError):
        return "rejected"
    if not isinstance(exc, DeliveryError):
        return "local_bug"
    found = _STATUS.search(str(exc))
    status = int(found.group(1)) if found else 0
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "rejected" if 400 <= status < 500 else "network"


def worst(causes: list[Cause]) -> Cause:
    return min(causes, key=CAUSES.index)
