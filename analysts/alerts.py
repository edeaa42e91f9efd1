"""Alerts to specialists: the worker's analyst routes each notification to the SRE, security or
efficiency analyst and adds that analyst's reading to the incident analyst's result.

The incident analyst still writes the cited summary, picks the runbook and category and runs the
LLM refinement; the specialist adds what its domain knows (PromQL now against an hour ago,
stuffing detections, secrets seen in logs, clusters on the alert's services) as
``AnalysisResult.specialist``, with its evidence appended to the result's (``E{n+1}`` …), so Slack,
Grafana and the incidents API show who explained the alert, why it was chosen, and what it cites.

Routing reads the alert's name only (an ``analyst`` label wins), never annotations, other label
values or log lines, so text an attacker wrote cannot pick the analyst. The first phase uses no model: a tie
that rules and embeddings leave is settled by the closest examples, and the refinement (budgeted,
after the first message is out) asks the model to break it.

    worker = Worker(store, notifiers, AlertSpecialists(incident_analyst, settings), metrics, config)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

from cachetools import LRUCache
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.result import AnalysisResult, Evidence, SpecialistOpinion
from alert_webhooks.schemas import Notification
from analysts.ask import context_lines, count_route
from analysts.base import Answer, Context
from analysts.prometheus import CachedPrometheus
from analysts.router import Route, Router
from analysts.settings import AnalystsSettings
from clustering.evidence import SERVICE_LABELS

_CITATION = re.compile(r"\[(E\d+(?:\s*[,;]\s*E\d+)*)\]")  # [E1] or [E1, E3]: only citations are renumbered
CONTEXT_LINES = 2


def alert_labels(notification: Notification) -> dict[str, str]:
    """The lead alert's labels, with the group's common labels over them."""
    return {**notification.alerts[0].labels, **notification.commonLabels}


def question(labels: Mapping[str, str]) -> str:
    return f"explain the alert {labels.get('alertname', 'unknown')}"


class AlertSpecialists:
    """An :class:`~alert_webhooks.analysis.analyst.Analyst` that wraps the incident analyst."""

    def __init__(
        self,
        incident: IncidentAnalyst,
        settings: AnalystsSettings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.incident, self.settings, self.registry = incident, settings, registry
        self.router = Router()  # no model in the first phase
        self._routes: LRUCache[tuple[str, str], Route] = LRUCache(maxsize=1024)
        url = settings.prometheus_url
        self.prometheus = CachedPrometheus(url, settings.evidence_seconds) if url else None

    async def first(self, incident_id: str, notification: Notification) -> AnalysisResult:
        labels = alert_labels(notification)
        route = await self._route(labels)
        count_route(route, self.registry)
        base, answer = await asyncio.gather(
            self.incident.first(incident_id, notification), self._answer(route, labels)
        )
        return attach(base, route, answer)

    async def _route(self, labels: Mapping[str, str]) -> Route:
        """Routing reads only the alert's name and ``analyst`` label, so it is decided once per
        pair: the embedding step costs ~30 ms of CPU on the event loop, too much for every alert of
        a storm."""
        key = (labels.get("alertname", ""), labels.get("analyst", ""))
        if (known := self._routes.get(key)) is None:
            known = self._routes[key] = await self.router.route("", labels)
        return known

    async def refine(
        self, incident_id: str, notification: Notification | None, first: AnalysisResult
    ) -> AnalysisResult:
        first = await self._break_tie(first, notification)
        return await self.incident.refine(incident_id, notification, first)

    async def _break_tie(self, first: AnalysisResult, notification: Notification | None) -> AnalysisResult:
        """Before the incident analyst's model call (which may cite the specialist's evidence): a
        routing tie goes to the model, and a different pick replaces the opinion."""
        opinion = first.specialist
        if opinion is None or opinion.method != "tie" or notification is None or self.incident.llm is None:
            return first
        labels = alert_labels(notification)
        route = await Router(llm=self.incident.llm, deadline=self.settings.deadline_seconds).route("", labels)
        if route.method != "model":
            return first
        count_route(route, self.registry)
        return attach(detach(first), route, await self._answer(route, labels))

    async def _answer(self, route: Route, labels: Mapping[str, str]) -> Answer:
        services = {labels[k] for k in SERVICE_LABELS if labels.get(k)}
        ctx = Context(
            self.prometheus,
            None,  # the specialist's reading is deterministic here; the refinement is the model's
            # Few lines: they join the incident's evidence, which the refinement's prompt must fit.
            context_lines(route.analyst.name, self.settings, services, limit=CONTEXT_LINES),
            self.settings.evidence_seconds,
        )
        return await route.analyst.answer(question(labels), ctx, route.why)


def attach(result: AnalysisResult, route: Route, answer: Answer) -> AnalysisResult:
    """``result`` with the specialist's opinion and its evidence renumbered after the result's own."""
    offset = len(result.evidence)
    ids = {e.id: f"E{offset + n}" for n, e in enumerate(answer.evidence, start=1)}
    evidence = [
        Evidence(id=ids[e.id], source=f"{route.analyst.name} analyst: {e.source}", text=e.text)
        for e in answer.evidence
    ]
    text = _CITATION.sub(
        lambda m: "[" + re.sub(r"E\d+", lambda e: ids.get(e.group(0), e.group(0)), m.group(1)) + "]",
        answer.answer,
    )
    opinion = SpecialistOpinion(
        analyst=route.analyst.name,
        method="tie" if route.tied else route.method,
        why=route.why,
        answer=text,
        evidence=list(ids.values()),
        missing=answer.missing,
    )
    return result.model_copy(update={"evidence": [*result.evidence, *evidence], "specialist": opinion})


def detach(result: AnalysisResult) -> AnalysisResult:
    """``result`` without its specialist opinion and that opinion's evidence."""
    own = set(result.specialist.evidence) if result.specialist else set()
    return result.model_copy(
        update={"evidence": [e for e in result.evidence if e.id not in own], "specialist": None}
    )
