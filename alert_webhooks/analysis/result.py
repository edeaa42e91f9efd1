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
    """One masked piece of evidence; sentences cite it by ``id`` (E1, E2, ...).

    ``text`` is the source's own words (a log line exactly as logged, secrets masked); how often
    a log pattern occurred and its level are kept apart so the line stays verbatim.
    """

    id: str
    source: str
    text: str
    count: int | None = None
    level: str | None = None

    def grounding_text(self) -> str:
        """What a sentence citing this may state: the text, and the count and level beside it."""
        return f"{self.count}x {self.level}: {self.text}" if self.level else self.text


class Grounding(BaseModel):
    grounded_ratio: float = Field(ge=0, le=1)
    dropped_sentences: int = Field(ge=0)
    backend: str
    fallback_reason: str | None = None
    rejected_ratio: float | None = Field(None, ge=0, le=1)  # the grounded share of a refused answer
    # The model's answer's size (estimated from characters), when one came back: the budget and
    # the trust metrics charge it.
    tokens_in: int | None = Field(None, ge=0)
    tokens_out: int | None = Field(None, ge=0)


class SpecialistOpinion(BaseModel):
    """The specialist analyst (SRE, security, efficiency) an alert was routed to, why, and what it
    reads in its own evidence; its answer cites ids in ``AnalysisResult.evidence`` (docs/analysts.md)."""

    analyst: str
    method: str  # how routing decided: rules, embedding or model
    why: str
    answer: str
    evidence: list[str] = Field(default_factory=list)  # the ids of its evidence
    missing: list[str] = Field(default_factory=list)


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
    specialist: SpecialistOpinion | None = None
