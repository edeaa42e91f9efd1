"""Builds the analyst the worker and ``llm-sre analyze`` share, from settings."""

from __future__ import annotations

from alert_webhooks.analysis.analyst import Analyst, DeterministicAnalyst
from alert_webhooks.settings import Settings


def build_analyst(settings: Settings) -> Analyst:
    return DeterministicAnalyst()
