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
from functools import lru_cache

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.schemas import Alert, Notification
from exporters.redact import redact, redact_mapping


# Alertmanager sends a group's every alert again in each notification, so in a storm the same label
# sets come back again and again: each is masked once, and a clean alert is not copied. A new label
# set still costs ~50 µs (the masker's rules), which is most of what masking costs the storm test
# (10,000 distinct alerts: ~700 notifications/s unmasked, ~520-630/s masked on this machine).
# The caches hold raw values, which this process has in memory anyway; nothing here leaves it.
@lru_cache(maxsize=16384)
def _masked_items(items: tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    """The masked mapping, or None when masking changes nothing (the usual case: no copy needed)."""
    values = dict(items)
    out = redact_mapping(values)
    return None if out == values else out


def _mapping(values: dict[str, str]) -> dict[str, str]:
    out = _masked_items(tuple(values.items()))
    return values if out is None else dict(out)  # a copy: the cached dict is shared


_text = lru_cache(maxsize=4096)(redact)


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
