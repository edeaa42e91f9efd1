"""Masking at the edge: a notification is masked once, at intake, before it is persisted.

Everything downstream — the store (SQLite file, Redis keys and AOF), the incidents API, the analyst's
prompts, Slack, Grafana, the outbox and our logs — then only ever holds the masked copy, so no path
can forget to mask (issue 4: one masker on every path that leaves the process).

    notification = masked(Notification.model_validate_json(body))

What stays raw, and why: ``fingerprint``, ``startsAt``, ``endsAt``, ``status`` and ``version`` are
identities and timestamps, not text; they make the dedup key and must stay byte-identical. Every
other string goes through :func:`exporters.redact.redact` (label and annotation maps through
``redact_mapping``, which also masks values under secret-named keys such as ``api_key``). Masking is
deterministic and leaves clean values untouched, so a re-sent notification masks to the same bytes,
gets the same dedup key and is still recognised as a duplicate.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TypeVar

from cachetools import LRUCache

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.schemas import Alert, Notification
from exporters.redact import redact, redact_mapping

K = TypeVar("K")
V = TypeVar("V")

# Alertmanager sends a group's every alert again in each notification, so in a storm the same label
# sets come back again and again: each is masked once, and a clean alert is not copied. A new label
# set still costs ~50 µs (the masker's rules), which is most of what masking costs the storm test.
# The caches hold raw values, so they are bounded by bytes, not entries: 400 POSTs with 1 MB labels
# used to keep ~400 MB alive in an entry-bounded lru_cache. Entries past ``ENTRY_MAX_BYTES`` are not
# cached at all (a 1 MB label is not the repeated small label set the cache is for).
CACHE_MAX_BYTES = 16 * 1024 * 1024
ENTRY_MAX_BYTES = 16 * 1024


class _ByteBoundedMemo:
    """Memoise ``fn`` on its (hashable) argument, keeping at most ``max_bytes`` of keys and values."""

    def __init__(self, fn: Callable[[K], V], size: Callable[[K], int]) -> None:
        self._fn, self._size = fn, size
        self._cache: LRUCache[K, tuple[V, int]] = LRUCache(CACHE_MAX_BYTES, getsizeof=lambda entry: entry[1])
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; intake may run in threads

    def __call__(self, key: K) -> V:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        value = self._fn(key)
        cost = 2 * self._size(key)  # the masked copy is about as large as the raw key
        if cost <= ENTRY_MAX_BYTES:
            with self._lock:
                self._cache[key] = (value, cost)
        return value

    @property
    def currsize(self) -> int:
        return int(self._cache.currsize)


def _items_size(items: tuple[tuple[str, str], ...]) -> int:
    return sum(len(k) + len(v) for k, v in items) + 64


def _masked_items_uncached(items: tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    """The masked mapping, or None when masking changes nothing (the usual case: no copy needed)."""
    values = dict(items)
    out = redact_mapping(values)
    return None if out == values else out


_masked_items = _ByteBoundedMemo(_masked_items_uncached, _items_size)
_text = _ByteBoundedMemo(redact, lambda s: len(s) + 64)


def _mapping(values: dict[str, str]) -> dict[str, str]:
    out = _masked_items(tuple(values.items()))
    return values if out is None else dict(out)  # a copy: the cached dict is shared


def masked(notification: Notification) -> Notification:
    """``notification`` with every secret in its text replaced by ``[REDACTED:<kind>]``."""
    return notification.model_copy(
        update={
            "groupKey": _group_key(notification.groupKey),
            "receiver": _text(notification.receiver),
            "groupLabels": _mapping(notification.groupLabels),
            "commonLabels": _mapping(notification.commonLabels),
            "commonAnnotations": _mapping(notification.commonAnnotations),
            "externalURL": _text(notification.externalURL),
            "alerts": [_alert(a) for a in notification.alerts],
        }
    )


def _alert(alert: Alert) -> Alert:
    labels, annotations = _mapping(alert.labels), _mapping(alert.annotations)
    url = _text(alert.generatorURL)
    if labels is alert.labels and annotations is alert.annotations and url == alert.generatorURL:
        return alert  # clean: most alerts, and copying them was most of the masking's cost
    return alert.model_copy(update={"labels": labels, "annotations": annotations, "generatorURL": url})


def _group_key(group_key: str) -> str:
    """The masked group key, plus a digest of the raw one when masking changed it.

    A group key holds the group's label values; two groups differing only in a secret value would
    otherwise mask to the same key and merge into one incident. The digest keeps them apart and says
    no more about the secret than Alertmanager's own fingerprints (hashes of the labels) already do.
    """
    masked_key = _text(group_key)
    if masked_key == group_key:
        return group_key
    return f"{masked_key}#{hashlib.sha256(group_key.encode()).hexdigest()[:16]}"


def masked_analysis(analysis: AnalysisResult) -> AnalysisResult:
    """The analysis as stored: its evidence quotes logs and metrics, and the LLM may echo them."""
    return AnalysisResult.model_validate(redact_mapping(analysis.model_dump(mode="json")))


def cached_bytes() -> int:
    """What the masking caches hold now (for the memory test and bench)."""
    return _masked_items.currsize + _text.currsize
