"""The Analyst contract: evidence → findings → grounded text, with a deterministic fallback.

A specialist is data plus two small functions: the PromQL it reads (:class:`Query`), the routing
vocabulary (keywords and example questions), its prompt file and runbooks, and ``advise`` — the
deterministic reading of its findings. :class:`Specialist.answer` does the rest the same way for
all three: collect evidence, say what is missing, ask the model within the grounding rules, and
fall back to the deterministic text.

    answer = await SRE.answer("why did p95 latency double since noon?", Context(prometheus, llm))
    answer.analyst, answer.answer, answer.evidence
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from alert_webhooks.analysis.llm import LLM
from analysts.grounded import grounded, safe
from analysts.prometheus import Prometheus, Reading

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Query:
    """One PromQL reading; ``unit`` tells how to print it, ``label`` what it is in an answer."""

    name: str
    label: str
    expr: str
    unit: str = ""


@dataclass(frozen=True)
class Finding:
    text: str
    advice: str = ""  # the concrete next step this finding suggests, from the runbook


@dataclass
class Context:
    """What an analyst may read: Prometheus, the model, and extra evidence (alerts, detections, clusters)."""

    prometheus: Prometheus | None
    llm: LLM | None = None
    extra: list[str] = field(default_factory=list)
    deadline: float = 5.0


class EvidenceItem(BaseModel):
    id: str
    source: str
    text: str


class Answer(BaseModel):
    analyst: str
    why: str
    answer: str
    evidence: list[EvidenceItem]
    backend: str = "deterministic"
    missing: list[str] = []


Advisor = Callable[[dict[str, Reading]], list[Finding]]


@dataclass(frozen=True)
class Specialist:
    name: str
    title: str
    keywords: dict[str, float]  # regex → weight, matched on the question or alert text
    examples: tuple[str, ...]  # typical questions: the embedding router's reference set
    queries: tuple[Query, ...]
    advise: Advisor
    runbooks: tuple[str, ...] = ()

    @property
    def prompt(self) -> str:
        return (HERE / "prompts" / f"{self.name}.md").read_text()

    def runbook(self, name: str) -> str:
        return (HERE / "runbooks" / f"{name}.md").read_text()

    def score(self, text: str) -> float:
        return sum(w for rx, w in self.keywords.items() if re.search(rx, text, re.I))

    async def answer(self, question: str, ctx: Context, why: str) -> Answer:
        readings: dict[str, Reading] = {}
        missing: list[str] = []
        if ctx.prometheus is None:
            missing.append("PROMETHEUS_URL (no metrics source configured)")
        else:
            readings = await ctx.prometheus.read(self.queries, ctx.deadline)
            missing += [
                f"metric data for {q.label} ({q.expr})" for q in self.queries if q.name not in readings
            ]
        evidence = [
            EvidenceItem(id=f"E{i}", source="prometheus", text=safe(r.text))
            for i, r in enumerate(readings.values(), start=1)
        ]
        evidence += [
            EvidenceItem(id=f"E{len(evidence) + i}", source="context", text=safe(t))
            for i, t in enumerate(ctx.extra, start=1)
        ]
        if not evidence:
            return Answer(
                analyst=self.name,
                why=why,
                evidence=[],
                missing=missing,
                answer="not enough evidence: missing " + "; ".join(missing or ["any data"]),
            )
        findings = self.advise(readings)
        text = _deterministic(findings, evidence, missing)
        model = await grounded(
            ctx.llm, self.prompt, question, {e.id: e.text for e in evidence}, deadline=ctx.deadline
        )
        backend = "deterministic"
        if model:
            text, backend = model + _missing_note(missing), getattr(ctx.llm, "backend", "llm")
        return Answer(
            analyst=self.name, why=why, answer=text, evidence=evidence, backend=backend, missing=missing
        )


def _missing_note(missing: Sequence[str]) -> str:
    return f" Not covered (not enough evidence): missing {'; '.join(missing)}." if missing else ""


def _deterministic(
    findings: Sequence[Finding], evidence: Sequence[EvidenceItem], missing: Sequence[str]
) -> str:
    """Findings (or the readings when none crosses a threshold), each citing the evidence it quotes."""
    if findings:
        parts = [_cited(f.text, evidence) + (f" Suggested: {f.advice}" if f.advice else "") for f in findings]
    else:
        parts = [
            "Nothing in the readings crosses this analyst's thresholds. Readings: "
            + "; ".join(f"{e.text} [{e.id}]" for e in evidence[:6])
            + "."
        ]
    return " ".join(parts) + _missing_note(missing)


def _cited(text: str, evidence: Sequence[EvidenceItem]) -> str:
    """A finding quotes its readings verbatim, so the readings it contains are what it cites."""
    ids = [e.id for e in evidence if e.text and e.text in safe(text)]
    return f"{text} [{', '.join(ids)}]" if ids else text
