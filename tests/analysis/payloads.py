"""Alertmanager v4 payloads for tests, built as Alertmanager 0.25 sends them (REFERENCE §1)."""

from __future__ import annotations

from pathlib import Path

import yaml

from alert_webhooks.schemas import Notification
from llm_sre.evals.cases import STARTS_AT, payload

__all__ = ["STARTS_AT", "case_names", "load_case", "payload"]
CASES = Path(__file__).parent / "cases"


def load_case(name: str) -> tuple[Notification, dict]:
    """A labelled scenario: (notification, case dict with logs, metrics and expect)."""
    data = yaml.safe_load((CASES / name / "case.yaml").read_text())
    return Notification.model_validate(payload(data["alerts"])), data


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").exists())
