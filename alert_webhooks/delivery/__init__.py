"""Sinks an incident is delivered to, behind one small protocol.

A notifier is an async generator: it brings one sink up to date with an incident and yields the
sink's new :class:`DeliveryState` after every external side effect, so the worker can persist each
step before the next one. A crash between steps then resumes after the last recorded step instead
of repeating it (one Slack message, one annotation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from alert_webhooks.incidents import DeliveryState, Incident


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
