"""One briefing, start to finish: gather → engine → grounded summary → Markdown, with its metrics.

The CLI, the scheduled digest and the tests all go through :class:`Briefer`, so the briefing a
person asks for and the one the schedule posts are the same.

    briefer = Briefer(Prometheus(url), store, llm, metrics(registry))
    b = await briefer.brief(at=time.time(), period=86400)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from alert_webhooks.analysis.llm import LLM
from alert_webhooks.store import Store
from briefing.engine import Config, brief
from briefing.gather import gather
from briefing.items import Briefing, LLMReport
from briefing.markdown import deterministic_summary, render
from briefing.prometheus import Prometheus
from briefing.prose import write_summary
from exporters.catalogue import MetricSet


@dataclass
class Briefer:
    prom: Prometheus | None
    store: Store | None
    llm: LLM | None
    metrics: MetricSet
    config: Config = field(default_factory=Config)
    step: float = 300.0
    deadline: float = 20.0
    llm_deadline: float = 60.0
    grounding_threshold: float = 0.6

    async def brief(self, at: float, period: float) -> Briefing:
        inputs = await gather(
            self.prom, self.store, at, period, self.config, step=self.step, deadline=self.deadline
        )
        items = brief(inputs, self.config)
        summary, report = await write_summary(self.llm, items, self.llm_deadline, self.grounding_threshold)
        if summary is None:
            summary = deterministic_summary(items)
            note = f"Deterministic summary (LLM not used: {report.reason})."
        else:
            note = f"Summary written by {report.model}; every number in it was checked against the evidence."
        self._observe(items, report)
        return replace(items, text=render(items, summary, note), llm=report)

    def _observe(self, b: Briefing, report: LLMReport) -> None:
        m = self.metrics
        m["llm_sre_briefings_total"].labels(prose="llm" if report.accepted else "deterministic").inc()
        for missing in b.missing:
            m["llm_sre_briefing_sections_missing_total"].labels(section=missing.section).inc()
        if report.tokens_in:  # the model was asked (whatever it answered)
            m["llm_sre_briefing_llm_tokens_total"].labels(gen_ai_token_type="input").inc(report.tokens_in)
            m["llm_sre_briefing_llm_tokens_total"].labels(gen_ai_token_type="output").inc(report.tokens_out)
            m["llm_sre_briefing_llm_duration_seconds"].observe(report.seconds)
