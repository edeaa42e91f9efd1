"""Why a delivery failed, and what to do about it: one small table any sender can share.

A failed push is classified into a :class:`Cause` from the HTTP status and the server's message
(or the exception), and every cause maps to one :class:`Action`. The Loki pipeline uses it for
its dead letters; it knows nothing about Loki beyond the rejection texts in ``_MESSAGE_CAUSES``,
so another sender (the webhook worker, say) can classify its failures the same way::

    failure = classify_response(response.status_code, response.text, response.headers)
    if failure.action is Action.RETRY: ...

The Loki texts are Loki's own (``pkg/validation`` and the ingester's per-entry errors):
``Max entry size '%d' bytes exceeded …``, ``entry too far behind, …``, ``entry out of order``,
``… has timestamp too old …``, ``Error parsing labels …``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from exporters.redact import redact


class Cause(enum.StrEnum):
    NETWORK = "network"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    LINE_TOO_LONG = "line_too_long"
    BATCH_TOO_LARGE = "batch_too_large"
    TOO_OLD = "too_old"
    OUT_OF_ORDER = "out_of_order"
    INVALID_LABELS = "invalid_labels"
    REJECTED = "rejected"
    LOCAL_BUG = "local_bug"


class Action(enum.StrEnum):
    RETRY = "retry"  # later, with backoff: the receiver or the path to it is unwell
    SPLIT = "split"  # send the batch again in halves
    TRUNCATE = "truncate"  # cut the oversized entries and send again
    PARK = "park"  # a dead letter: retrying the same bytes would fail the same way


ACTIONS: Mapping[Cause, Action] = {
    Cause.NETWORK: Action.RETRY,
    Cause.TIMEOUT: Action.RETRY,
    Cause.RATE_LIMITED: Action.RETRY,
    Cause.SERVER_ERROR: Action.RETRY,
    Cause.LINE_TOO_LONG: Action.TRUNCATE,
    Cause.BATCH_TOO_LARGE: Action.SPLIT,
    # Loki keeps the accepted entries of a partly rejected push; the rest would be refused again
    # until the stream's window moves, which is an operator's call (``llm-sre logs dlq retry``).
    Cause.TOO_OLD: Action.PARK,
    Cause.OUT_OF_ORDER: Action.PARK,
    Cause.INVALID_LABELS: Action.PARK,
    Cause.REJECTED: Action.PARK,
    Cause.LOCAL_BUG: Action.PARK,
}

# Checked in order against the response text of a 4xx; the first match wins.
_MESSAGE_CAUSES: tuple[tuple[re.Pattern[str], Cause], ...] = (
    (re.compile(r"max entry size|line too long|line_too_long", re.I), Cause.LINE_TOO_LONG),
    (re.compile(r"too far behind|timestamp too old|greater_than_max_sample_age", re.I), Cause.TOO_OLD),
    (re.compile(r"out of order", re.I), Cause.OUT_OF_ORDER),
    (re.compile(r"parsing labels|label name|label value|labels? .*(invalid|required)|duplicate label", re.I),
     Cause.INVALID_LABELS),
    (re.compile(r"too large|larger than max|body size|message size", re.I), Cause.BATCH_TOO_LARGE),
)


@dataclass(frozen=True)
class Failure:
    """A classified failure; ``detail`` is masked and short enough for a log line or a file."""

    cause: Cause
    detail: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def action(self) -> Action:
        return ACTIONS[self.cause]


def _short(text: str, limit: int = 300) -> str:
    return redact(text.strip()[:limit])


def classify_response(status: int, text: str, retry_after: float | None = None) -> Failure:
    """A failed HTTP answer (status >= 300) as a :class:`Failure`."""
    detail = _short(text) or f"HTTP {status}"
    if status == 429:
        return Failure(Cause.RATE_LIMITED, detail, status, retry_after)
    if status >= 500 or status in (408, 425):
        return Failure(Cause.SERVER_ERROR, detail, status, retry_after)
    if status == 413:
        return Failure(Cause.BATCH_TOO_LARGE, detail, status)
    cause = next((c for pattern, c in _MESSAGE_CAUSES if pattern.search(text)), Cause.REJECTED)
    return Failure(cause, detail, status)


def classify_exception(exc: BaseException) -> Failure:
    """An exception raised while sending: transport trouble is retried, anything else is our bug."""
    if isinstance(exc, httpx.TimeoutException):
        return Failure(Cause.TIMEOUT, _short(f"{type(exc).__name__}: {exc}"))
    if isinstance(exc, httpx.TransportError | OSError):
        return Failure(Cause.NETWORK, _short(f"{type(exc).__name__}: {exc}"))
    return Failure(Cause.LOCAL_BUG, _short(f"{type(exc).__name__}: {exc}"))
