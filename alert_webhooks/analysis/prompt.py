"""The LLM prompt and the answer's JSON schema, built per incident from the first result.

Prompts are files (``prompts/*.txt``) so they can be reviewed and diffed without reading code;
``string.Template`` because the templates embed JSON, whose braces ``str.format`` would eat.

The schema carries most of the grounding (REFERENCE §8): every sentence is an object naming the
one evidence id it relies on, from an enum of *this* incident's ids, and actions are picked by id
from the runbook's own steps. A constrained small model then cannot cite what does not exist or
invent a remedy; it is left to write short sentences, which the grounding check still judges.

    schema = answer_schema(first)                       # what the server constrains decoding to
    answer = parse_answer(completion.content, first)    # raises AnswerError("malformed"|"echo")
    answer.text()["summary"]                            # "Redis rejects writes ... [E3]."
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from alert_webhooks.analysis.grounding import best_citation, sentences, uncited
from alert_webhooks.analysis.result import AnalysisResult

PROMPTS = Path(__file__).resolve().parent / "prompts"
# Characters per token for English and log text on common tokenizers; deliberately low so the
# context estimate errs on the large side.
CHARS_PER_TOKEN = 3
# The answer is at most ~5 short sentences and a few ids: 400 tokens is room for that, and a
# model looping on a phrase is stopped long before it eats a shared CPU for minutes.
ANSWER_TOKENS = 400
SENTENCE_CHARS = 200
MAX_SENTENCES = 3
MAX_ACTIONS = 4

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
# Words of the schema and the prompt itself: an answer containing them parrots its instructions.
_SCAFFOLDING = re.compile(r"\$schema|\b(?:maxItems|minItems|maxLength|enum)\b|\"items\"")


class AnswerError(ValueError):
    """The completion is not a usable answer; ``reason`` is the fallback reason to record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Claim(BaseModel):
    evidence: str
    sentence: str = Field(min_length=1)

    @field_validator("sentence", mode="after")
    @classmethod
    def _short(cls, value: str) -> str:
        return value[:SENTENCE_CHARS]

    def cited(self, evidence: Mapping[str, str]) -> str:
        """The text with a citation on every sentence of it, as the grounding check reads it (see
        ``best_citation`` for when that is not the id the model named)."""
        parts = [p for p in (uncited(s).rstrip(" .") for s in sentences(self.sentence)) if p]
        return " ".join(f"{p} [{best_citation(p, self.evidence, evidence)}]." for p in parts)


class LLMAnswer(BaseModel):
    """What the model returns; validated before grounding (anything else is "malformed")."""

    summary: list[Claim] = Field(min_length=1)
    root_cause: Claim
    actions: list[str] = Field(default_factory=list)
    confidence: float = 0.5

    # A model that writes nine sentences or a confidence of 1e300 may still be right sentence by
    # sentence: trim and clamp here, and let the grounding check judge the content.
    @field_validator("summary", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return value[:MAX_SENTENCES] if isinstance(value, list) else value

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.5
        return 0.5


def action_ids(first: AnalysisResult) -> dict[str, str]:
    """The runbook's actions as ``A1…`` → the cited sentence phase one delivers."""
    return {f"A{n}": a for n, a in enumerate(first.immediate_actions[:MAX_ACTIONS], 1)}


def _claim_schema(ids: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "evidence": {"type": "string", "enum": ids},
            # No maxLength: llama.cpp expands it into a grammar rule per character, which made
            # sampling on CPU several times slower; the token cap and the validator bound it.
            "sentence": {"type": "string", "minLength": 1},
        },
        "required": ["evidence", "sentence"],
    }


def answer_schema(first: AnalysisResult) -> dict[str, Any]:
    """JSON Schema for this incident: evidence and action ids are enums of what exists."""
    ids = [e.id for e in first.evidence] or ["E1"]
    actions = list(action_ids(first)) or ["A1"]
    return {
        "type": "object",
        "properties": {
            "summary": {
                "type": "array",
                "items": _claim_schema(ids),
                "minItems": 1,
                "maxItems": MAX_SENTENCES,
            },
            "root_cause": _claim_schema(ids),
            "actions": {
                "type": "array",
                "items": {"type": "string", "enum": actions},
                "maxItems": MAX_ACTIONS,
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["summary", "root_cause", "actions", "confidence"],
    }


def _evidence_line(e: Any) -> str:
    return f"{e.id} ({e.source}): {e.text}"


def messages(first: AnalysisResult) -> list[dict[str, str]]:
    system = (PROMPTS / "system.txt").read_text()
    actions = "\n".join(f"{k}: {uncited(v)}" for k, v in action_ids(first).items()) or "(none)"
    user = Template((PROMPTS / "user.txt").read_text()).substitute(
        incident_id=first.incident_id,
        severity=first.severity,
        category=first.category,
        evidence="\n".join(_evidence_line(e) for e in first.evidence),
        actions=actions,
        draft=uncited(first.summary),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _echoed(sentence: str) -> bool:
    """A sentence the system prompt already holds (a field description, a rule) was copied."""
    words = sentence.strip(" .").lower()
    return len(words) >= 8 and words in (PROMPTS / "system.txt").read_text().lower()


def prompt_tokens(msgs: list[dict[str, str]]) -> int:
    """Estimated prompt size plus the answer's cap: what must fit in the model's context."""
    return sum(len(m["content"]) for m in msgs) // CHARS_PER_TOKEN + ANSWER_TOKENS


def parse_answer(content: str) -> LLMAnswer:
    """The answer in ``content``, read leniently (code fences, raw newlines inside strings).

    Raises :class:`AnswerError` with ``malformed`` (not JSON of the schema) or ``echo`` (the
    prompt's field descriptions or the schema's own words written back instead of an answer).
    """
    text = _FENCE.sub("", content).strip()
    try:
        # strict=False: small models put raw newlines inside strings; the text is still meant.
        data = json.loads(text, strict=False)
        answer = LLMAnswer.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise AnswerError("malformed") from exc
    claims = [*answer.summary, answer.root_cause]
    if _SCAFFOLDING.search(text) or any(_echoed(c.sentence) for c in claims):
        raise AnswerError("echo")
    return answer
