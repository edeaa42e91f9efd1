"""The analyst contract the worker calls, and the incident analyst that implements it.

Two phases: ``first`` is deterministic and always succeeds (it is what goes out at once);
``refine`` asks the LLM for a better answer within a hard deadline and returns it if it passes
the grounding check — otherwise the first result, with ``grounding.fallback_reason`` saying why.

    analyst = IncidentAnalyst(kb, sources=[PrometheusSource(url, http)], llm=OllamaLLM(host, model))
    first = await analyst.first(incident_id, notification)     # deliver now
    final = await analyst.refine(incident_id, notification, first)
    if final.grounding.fallback_reason is None: ...            # the LLM's answer: update delivery
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis import deterministic
from alert_webhooks.analysis.archive import Archive, PastCase
from alert_webhooks.analysis.case import Case, Scalar
from alert_webhooks.analysis.evidence import clean
from alert_webhooks.analysis.facts import alert_findings, log_findings, metric_findings
from alert_webhooks.analysis.grounding import ground_answer, sentences, uncited
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.llm import LLM
from alert_webhooks.analysis.prompt import (
    ANSWER_TOKENS,
    CHARS_PER_TOKEN,
    AnswerError,
    LLMAnswer,
    action_ids,
    answer_schema,
    messages,
    parse_answer,
    prompt_tokens,
)
from alert_webhooks.analysis.result import AnalysisResult, Grounding
from alert_webhooks.analysis.sources import EvidenceSource, Finding
from alert_webhooks.feedback import Preferences
from alert_webhooks.schemas import Notification
from exporters.catalogue import metrics

log = logging.getLogger(__name__)


class Analyst(Protocol):
    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult: ...

    async def refine(
        self, incident_id: str, notification: Notification, first: AnalysisResult
    ) -> AnalysisResult: ...


@dataclass(frozen=True)
class AnalystConfig:
    deadline: float = 5.0  # seconds for the whole LLM call, connection included
    evidence_deadline: float = 3.0  # seconds per evidence source (Prometheus, Loki)
    grounding_threshold: float = 0.6  # below this share of grounded sentences, reject the answer
    max_context_tokens: int = 8192  # larger prompts are not sent: fallback "prompt_too_large"


def past_case(case: PastCase) -> str:
    """A past incident as one line, its citations removed (they point into *its* evidence)."""
    first = uncited(sentences(case.summary)[0]) if case.summary else ""
    return f"incident {case.incident_id} ({case.saved_at:%Y-%m-%d %H:%M} UTC): {first}"


# The kept result (or None), the fallback reason, and how the model's answer was judged.
Attempt = tuple[AnalysisResult | None, str, Grounding | None]


class IncidentAnalyst:
    """Deterministic first, LLM second; the worker, ``POST /api/v1/analyze`` and the CLI share it."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        sources: Sequence[EvidenceSource] = (),
        llm: LLM | None = None,
        archive: Archive | None = None,
        config: AnalystConfig = AnalystConfig(),  # frozen: safe to share as a default
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.knowledge, self.sources, self.llm, self.archive, self.config = (
            knowledge,
            sources,
            llm,
            archive,
            config,
        )
        self._metrics = metrics(registry)
        # On-call feedback for an alert name; the service sets it (it reads the incident store).
        self.preferences: Callable[[str], Awaitable[Preferences]] | None = None

    # --- phase one -----------------------------------------------------------------------------
    async def first(
        self,
        incident_id: str,
        notification: Notification,
        *,
        logs: Sequence[str] = (),
        extra_metrics: Mapping[str, Scalar] | None = None,
    ) -> AnalysisResult:
        """The deterministic result; ``logs``/``extra_metrics`` are what ``llm-sre analyze`` adds."""
        return await self.first_case(
            incident_id, Case.from_notification(notification, tuple(logs), extra_metrics)
        )

    async def first_case(self, incident_id: str, case: Case) -> AnalysisResult:
        findings = alert_findings(case) + log_findings(case.logs) + metric_findings(case.metrics)
        for found in await asyncio.gather(*(self._collect(s, case) for s in self.sources)):
            findings += found
        prefs = await self.preferences(case.lead.name) if self.preferences else None
        result = deterministic.analyse(incident_id, case, findings, self.knowledge, prefs)
        if self.archive is not None and result.references:
            past = self.archive.related(result.references[0], exclude=incident_id)
            past = prefs.rank(past, lambda p: p.incident_id) if prefs else past
            result.related_cases[:0] = [past_case(p) for p in past]
        self._save(result)
        return result

    async def _collect(self, source: EvidenceSource, case: Case) -> list[Finding]:
        try:
            return await asyncio.wait_for(source.collect(case), self.config.evidence_deadline)
        except TimeoutError:
            log.warning("%s evidence missed its %.1fs budget", source.name, self.config.evidence_deadline)
            return []

    # --- phase two -----------------------------------------------------------------------------
    async def refine(
        self, incident_id: str, notification: Notification | None, first: AnalysisResult
    ) -> AnalysisResult:
        """The result to keep: the grounded LLM answer, or ``first`` with why it still stands."""
        return await self.conclude(first)

    async def conclude(self, first: AnalysisResult) -> AnalysisResult:
        """The LLM's result if grounded, else ``first`` with the fallback reason (and the rejected
        answer's grounded ratio, when there was an answer to judge)."""
        refined, reason, judged = await self._attempt(first)
        if refined is None:
            self._metrics["llm_sre_analyst_fallbacks_total"].labels(reason=reason).inc()
            refined = first.model_copy(
                update={
                    "grounding": first.grounding.model_copy(
                        update={
                            "fallback_reason": reason,
                            "rejected_ratio": judged.grounded_ratio if judged else None,
                            "tokens_in": judged.tokens_in if judged else None,
                            "tokens_out": judged.tokens_out if judged else None,
                        }
                    )
                }
            )
        self._metrics["llm_sre_analyst_results_total"].labels(backend=refined.grounding.backend).inc()
        self._save(refined)
        return refined

    async def analyse(self, incident_id: str, case: Case) -> AnalysisResult:
        """Both phases at once, for callers that wait for the answer (API, CLI)."""
        return await self.conclude(await self.first_case(incident_id, case))

    async def _attempt(self, first: AnalysisResult) -> Attempt:
        if self.llm is None:
            return None, "disabled", None
        msgs = messages(first)
        if prompt_tokens(msgs) > self.config.max_context_tokens:
            return None, "prompt_too_large", None
        started = time.perf_counter()
        try:
            completion = await asyncio.wait_for(
                self.llm.complete(msgs, answer_schema(first)), self.config.deadline
            )
        except TimeoutError:
            return None, "timeout", None
        except Exception as exc:  # any failure of the model server is a fallback, never a crash
            log.warning("analyst LLM (%s) failed: %s", self.llm.backend, type(exc).__name__)
            return None, "error", None
        finally:
            elapsed = time.perf_counter() - started
            self._metrics["llm_sre_analyst_llm_duration_seconds"].labels(backend=self.llm.backend).observe(
                elapsed
            )
        usage = {
            "tokens_in": prompt_tokens(msgs) - ANSWER_TOKENS,
            "tokens_out": len(completion.content) // CHARS_PER_TOKEN,
        }
        tokens = self._metrics["llm_sre_analyst_llm_tokens_total"]
        tokens.labels(gen_ai_token_type="input").inc(usage["tokens_in"])
        tokens.labels(gen_ai_token_type="output").inc(usage["tokens_out"])
        try:
            answer = parse_answer(completion.content)
        except AnswerError as exc:
            self._judged(elapsed, usage, accepted=False)
            return None, exc.reason, None
        attempt = self._grounded(first, answer, self.llm.backend, usage)
        self._judged(elapsed, usage, accepted=attempt[0] is not None)
        return attempt

    def _judged(self, elapsed: float, usage: Mapping[str, int], *, accepted: bool) -> None:
        """Trust metrics of an answer that came back: latency and size against acceptance."""
        outcome = "accepted" if accepted else "rejected"
        self._metrics["llm_sre_analyst_answer_duration_seconds"].labels(outcome=outcome).observe(elapsed)
        self._metrics["llm_sre_analyst_summary_tokens"].labels(outcome=outcome).observe(sum(usage.values()))

    def _grounded(
        self, first: AnalysisResult, answer: LLMAnswer, backend: str, usage: Mapping[str, int]
    ) -> Attempt:
        """Ground the model's sentences; its actions are runbook steps picked by id (grounded as
        phase one's are), so they take no part in the ratio."""
        # Masked *before* grounding: the check then sees exactly what will be sent.
        evidence = {e.id: e.grounding_text() for e in first.evidence}
        fabricated = sum(c.evidence not in evidence for c in [*answer.summary, answer.root_cause])
        self._metrics["llm_sre_analyst_fabricated_citations_total"].inc(fabricated)
        text = {
            "summary": clean(" ".join(c.cited(evidence) for c in answer.summary), 1500),
            "root_cause_analysis": clean(answer.root_cause.cited(evidence), 1500),
        }
        verdict = ground_answer(text, evidence)
        self._metrics["llm_sre_analyst_grounded_ratio"].observe(verdict.ratio)
        self._metrics["llm_sre_analyst_dropped_sentences_total"].inc(verdict.dropped)
        grounding = Grounding(
            grounded_ratio=round(verdict.ratio, 3),
            dropped_sentences=verdict.dropped,
            backend=backend,
            **usage,
        )
        if verdict.refused:
            return None, "refused", grounding
        if verdict.ratio < self.config.grounding_threshold or not verdict.fields["summary"]:
            return None, "ungrounded", grounding
        steps = action_ids(first)
        actions = [steps[a] for a in dict.fromkeys(answer.actions) if a in steps]
        refined = first.model_copy(
            update={
                **verdict.fields,
                # An empty grounded field keeps the deterministic one: never deliver less than phase one.
                **{k: getattr(first, k) for k, v in verdict.fields.items() if not v},
                # The model's order first, then the runbook's remaining steps: it ranks, never removes.
                "immediate_actions": actions + [a for a in first.immediate_actions if a not in actions],
                "confidence_score": round(answer.confidence * verdict.ratio, 2),
                "grounding": grounding,
            }
        )
        return refined, "", grounding

    def _save(self, result: AnalysisResult) -> None:
        if self.archive is not None:
            self.archive.save(result)
