"""``ask``: route a question or an alert to one analyst and answer it from evidence.

Shared by ``llm-sre ask`` and ``POST /api/v1/ask``. Besides Prometheus, analysts read the
clustering snapshot (incidents on the services in question) and the security detections file,
both written by the log exporter under the same data directory.

    result = await ask("why did p95 latency double since noon?", settings=get_settings())
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysts.base import Answer, Context
from analysts.prometheus import Prometheus
from analysts.router import Route, Router
from analysts.settings import AnalystsSettings
from clustering.store import load_snapshot
from security.watch import load_detections

MAX_EXTRA = 5


def context_lines(analyst: str, settings: AnalystsSettings) -> list[str]:
    """Recent incident clusters (all analysts) and stuffing detections (security), as evidence lines."""
    lines = []
    snapshot = load_snapshot(settings.data_dir) or {}
    for inc in snapshot.get("incidents", [])[:MAX_EXTRA]:
        lines.append(
            f"log cluster {inc['incidentId']} ({inc['severity']}, {inc['events']} events, services "
            f"{', '.join(inc['services'])}): {inc['templates'][0]}"
        )
    if analyst == "security":
        found = load_detections(settings.data_dir) or {}
        for d in found.get("detections", [])[-MAX_EXTRA:]:
            lines.append(
                f"detection {d['shape']} ({d['severity']}): {d['accounts']} accounts from "
                f"{d['sources']} sources, {d['failures']} failures"
            )
    return lines


async def route(settings: AnalystsSettings, question: str, labels: Mapping[str, str] | None = None) -> Route:
    return await Router(llm=settings.llm(), deadline=settings.deadline_seconds).route(question, labels)


async def ask(
    settings: AnalystsSettings,
    question: str,
    labels: Mapping[str, str] | None = None,
    route_only: bool = False,
) -> dict[str, Any]:
    chosen = await route(settings, question, labels)
    if route_only:
        return {"analyst": chosen.analyst.name, "why": chosen.why, "method": chosen.method}
    prom = Prometheus(settings.prometheus_url, settings.evidence_seconds) if settings.prometheus_url else None
    ctx = Context(
        prom, settings.llm(), context_lines(chosen.analyst.name, settings), settings.deadline_seconds
    )
    answer: Answer = await chosen.analyst.answer(question, ctx, chosen.why)
    return answer.model_dump() | {"method": chosen.method}
