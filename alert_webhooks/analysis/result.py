"""The AnalysisResult contract shared by the analyst, the worker, the API and ``llm-sre analyze``.

The field names are a public contract (dashboards, Slack blocks and API clients read them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Category = Literal[
    "memory",
    "connection",
    "replication",
    "cluster",
    "performance",
    "persistence",
    "security",
    "network",
    "llm",
    "rag",
    "cache",
    "container",
]

Severity = Literal["critical", "warning", "info"]


class Evidence(BaseModel):
    """One masked piece of evidence; sentences cite it by ``id`` (E1, E2, ...)."""

    id: str
    source: str
    text: str


class Grounding(BaseModel):
    grounded_ratio: float = Field(ge=0, le=1)
    dropped_sentences: int = Field(ge=0)
    backend: str
    fallback_reason: str | None = None


class AnalysisResult(BaseModel):
    incident_id: str
    severity: Severity
    category: Category
    summary: str
    root_cause_analysis: str
    immediate_actions: list[str] = Field(default_factory=list)
    detailed_steps: list[str] = Field(default_factory=list)
    related_cases: list[str] = Field(default_factory=list)
    prevention_tips: list[str] = Field(default_factory=list)
    confidence_score: float = Field(ge=0, le=1)
    references: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    grounding: Grounding
