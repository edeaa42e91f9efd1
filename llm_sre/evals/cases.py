"""Case folders: ``<name>/case.yaml`` with the alerts, log lines, metrics and the expected answer.

The format of the analyst's scenario tests (tests/analysis/cases); ``llm-sre eval`` ships a few
under ``llm_sre/evals/cases``. A case is what ``llm-sre analyze`` takes (payload, logs, metrics),
in one file so it can be reviewed and masked in one place::

    alerts:
      - labels: {alertname: RedisOOM, service: cache, severity: critical}
        annotations: {summary: "used_memory at 98% of maxmemory"}
    logs: ["OOM command not allowed when used memory > 'maxmemory'"]
    metrics: {used_memory: 1048576}
    expect: {category: memory}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from alert_webhooks.analysis.case import Scalar
from alert_webhooks.schemas import Notification

SHIPPED = Path(__file__).parent / "cases"
STARTS_AT = datetime(2026, 11, 26, 23, 10, tzinfo=UTC)


class CaseError(ValueError):
    """A case folder that cannot be read; the run reports it and goes on."""


@dataclass(frozen=True)
class EvalCase:
    name: str
    notification: Notification
    logs: tuple[str, ...] = ()
    metrics: dict[str, Scalar] = field(default_factory=dict)
    expected_category: str | None = None


def payload(alerts: list[dict[str, Any]], starts_at: datetime = STARTS_AT, generator_url: str = "") -> dict:
    """An Alertmanager v4 body for ``alerts`` as Alertmanager 0.25 sends it (REFERENCE §1)."""
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


def load(folder: Path) -> EvalCase:
    """The case in ``folder``; :class:`CaseError` saying what is wrong with it."""
    try:
        data = yaml.safe_load((folder / "case.yaml").read_text())
        if not isinstance(data, dict) or not data.get("alerts"):
            raise CaseError("case.yaml: needs a non-empty 'alerts' list")
        notification = Notification.model_validate(payload(data["alerts"]))
        metrics = data.get("metrics") or {}
        logs = data.get("logs") or []
        if not isinstance(metrics, dict) or not isinstance(logs, list):
            raise CaseError("case.yaml: 'metrics' must be a mapping and 'logs' a list")
        expect = data.get("expect") or {}
    except CaseError:
        raise
    except (OSError, yaml.YAMLError, ValidationError, KeyError, TypeError, AttributeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise CaseError(f"case.yaml: {type(exc).__name__}: {first_line}") from exc
    return EvalCase(
        folder.name,
        notification,
        tuple(str(line) for line in logs),
        {str(k): v for k, v in metrics.items() if isinstance(v, str | int | float | bool)},
        expect.get("category") if isinstance(expect, dict) else None,
    )


def folders(root: Path) -> list[Path]:
    """Case folders under ``root`` (each holding a case.yaml), sorted by name."""
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.yaml").exists())
