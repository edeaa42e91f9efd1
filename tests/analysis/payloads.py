"""Alertmanager v4 payloads for tests, built as Alertmanager 0.25 sends them (REFERENCE §1)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from alert_webhooks.schemas import Notification

CASES = Path(__file__).parent / "cases"
STARTS_AT = datetime(2026, 11, 26, 23, 10, tzinfo=UTC)


def payload(alerts: list[dict[str, Any]], starts_at: datetime = STARTS_AT, generator_url: str = "") -> dict:
    common = set.intersection(*(set(a["labels"].items()) for a in alerts))
    items = []
    for a in alerts:
        fp = hashlib.sha256(repr(sorted(a["labels"].items())).encode()).hexdigest()[:16]
        items.append(
            {
                "status": "firing",
                "labels": a["labels"],
                "annotations": a.get("annotations", {}),
                "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": a.get("generatorURL", generator_url),
                "fingerprint": fp,
            }
        )
    return {
        "version": "4",
        "groupKey": "{}:" + f'{{alertname="{alerts[0]["labels"]["alertname"]}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "llm-sre",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": dict(common),
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": items,
    }


def load_case(name: str) -> tuple[Notification, dict]:
    """A labelled scenario: (notification, case dict with logs, metrics and expect)."""
    data = yaml.safe_load((CASES / name / "case.yaml").read_text())
    return Notification.model_validate(payload(data["alerts"])), data


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").exists())
