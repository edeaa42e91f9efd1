"""Builds the analyst the worker and ``llm-sre analyze`` share, from settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alert_webhooks.analysis.analyst import Analyst, DeterministicAnalyst
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.runbooks import load_runbooks
from alert_webhooks.settings import Settings


@lru_cache
def open_knowledge(data_dir: Path) -> KnowledgeBase:
    """One knowledge base per data directory, seeded with the shipped runbooks on first open."""
    kb = KnowledgeBase(data_dir / "knowledge.db")
    kb.seed(load_runbooks())
    return kb


def build_analyst(settings: Settings) -> Analyst:
    return DeterministicAnalyst()
