"""The LLM prompt, built from template files and the first (deterministic) result's evidence.

Prompts are files (``prompts/*.txt``) so they can be reviewed and diffed without reading code;
``string.Template`` because the templates embed JSON, whose braces ``str.format`` would eat.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from string import Template

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from alert_webhooks.analysis.result import AnalysisResult

PROMPTS = Path(__file__).resolve().parent / "prompts"
# Characters per token for English and log text on common tokenizers; deliberately low so the
# context estimate errs on the large side.
CHARS_PER_TOKEN = 3
ANSWER_TOKENS = 1024


_LIMITS = {"immediate_actions": 8, "detailed_steps": 10, "prevention_tips": 6}


class LLMAnswer(BaseModel):
    """What the model must return; validated before grounding (anything else is "malformed")."""

    summary: str = Field(min_length=1)
    root_cause_analysis: str
    immediate_actions: list[str] = Field(default_factory=list, max_length=_LIMITS["immediate_actions"])
    detailed_steps: list[str] = Field(default_factory=list, max_length=_LIMITS["detailed_steps"])
    prevention_tips: list[str] = Field(default_factory=list, max_length=_LIMITS["prevention_tips"])
    confidence_score: float = Field(0.5, ge=0, le=1)

    # A model that writes nine actions or a confidence of 1e300 may still be right sentence by
    # sentence: trim and clamp here, and let the grounding check judge the content.
    @field_validator("immediate_actions", "detailed_steps", "prevention_tips", mode="before")
    @classmethod
    def _trim(cls, value: object, info: ValidationInfo) -> object:
        return value[: _LIMITS[info.field_name]] if isinstance(value, list) else value

    @field_validator("confidence_score", mode="before")
    @classmethod
    def _clamp(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.5
        return value


def answer_schema() -> dict:
    return LLMAnswer.model_json_schema()


def messages(first: AnalysisResult) -> list[dict[str, str]]:
    system = Template((PROMPTS / "system.txt").read_text()).substitute(schema=json.dumps(answer_schema()))
    evidence = "\n".join(f"{e.id} ({e.source}): {e.text}" for e in first.evidence)
    draft = "\n".join([first.summary, first.root_cause_analysis, *first.immediate_actions])
    user = Template((PROMPTS / "user.txt").read_text()).substitute(
        incident_id=first.incident_id,
        severity=first.severity,
        category=first.category,
        evidence=evidence,
        draft=draft,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def context_tokens(msgs: list[dict[str, str]]) -> int:
    """Context to request: prompt estimate plus room for the answer, rounded up to 1024."""
    need = sum(len(m["content"]) for m in msgs) // CHARS_PER_TOKEN + ANSWER_TOKENS
    return max(2048, -(-need // 1024) * 1024)
