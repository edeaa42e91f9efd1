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

from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.schemas import Alert, Notification
from exporters.redact import redact, redact_mapping


def masked(notification: Notification) -> Notification:
    """``notification`` with every secret in its text replaced by ``[REDACTED:<kind>]``."""
    return notification.model_copy(
        update={
            "groupKey": _group_key(notification.groupKey),
            "receiver": redact(notification.receiver),
            "groupLabels": redact_mapping(notification.groupLabels),
            "commonLabels": redact_mapping(notification.commonLabels),
            "commonAnnotations": redact_mapping(notification.commonAnnotations),
            "externalURL": redact(notification.externalURL),
            "alerts": [_alert(a) for a in notification.alerts],
        }
    )


def _alert(alert: Alert) -> Alert:
    return alert.model_copy(
        update={
            "labels": redact_mapping(alert.labels),
            "annotations": redact_mapping(alert.annotations),
            "generatorURL": redact(alert.generatorURL),
        }
    )


def _group_key(group_key: str) -> str:
    """The masked group key, plus a digest of the raw one when masking changed it.

    A group key holds the group's label values; two groups differing only in a secret value would
    otherwise mask to the same key and merge into one incident. The digest keeps them apart and says
    no more about the secret than Alertmanager's own fingerprints (hashes of the labels) already do.
    """
    masked_key = redact(group_key)
    if masked_key == group_key:
        return group_key
    return f"{masked_key}#{hashlib.sha256(group_key.encode()).hexdigest()[:16]}"


def masked_analysis(analysis: AnalysisResult) -> AnalysisResult:
    """The analysis as stored: its evidence quotes logs and metrics, and the LLM may echo them."""
    return AnalysisResult.model_validate(redact_mapping(analysis.model_dump(mode="json")))
