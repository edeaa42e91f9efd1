"""What one refinement of an incident did, per model configuration: the record shadow mode keeps so a
second model can be judged on live incidents before it replaces the first (docs/analyst.md).

Only judgements and sizes are kept, never the shadow's text: nothing of it can reach on-call.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from alert_webhooks.analysis.result import AnalysisResult

ConfigRole = Literal["primary", "shadow"]


class Trial(BaseModel):
    config: str  # the configuration's label, e.g. ``ollama:qwen2.5:7b``
    outcome: Literal["accepted", "rejected"]
    reason: str | None = None  # why the deterministic summary stood (None: accepted)
    grounded_ratio: float | None = Field(None, ge=0, le=1)  # of the answer, accepted or refused
    category: str
    latency_seconds: float = Field(ge=0)
    tokens_in: int | None = Field(None, ge=0)
    tokens_out: int | None = Field(None, ge=0)
    at: float

    @classmethod
    def of(cls, config: str, final: AnalysisResult, latency: float, at: float) -> Trial:
        g = final.grounding
        accepted = g.fallback_reason is None
        return cls(
            config=config,
            outcome="accepted" if accepted else "rejected",
            reason=g.fallback_reason,
            grounded_ratio=g.grounded_ratio if accepted else g.rejected_ratio,
            category=final.category,
            latency_seconds=round(max(latency, 0.0), 3),
            tokens_in=g.tokens_in,
            tokens_out=g.tokens_out,
            at=at,
        )


class ShadowRun(BaseModel):
    """The shadow's trial on an incident beside the primary's (``None`` when the primary never ran
    for it: skipped for the budget or the backlog; the incident's analysis says why)."""

    primary: Trial | None = None
    shadow: Trial
