"""``ask``: route a question or an alert to one analyst and answer it from evidence.

Shared by ``llm-sre ask`` and ``POST /api/v1/ask``. Besides Prometheus, analysts read the
clustering snapshot (incidents on the services in question), the security detections file and
the secrets seen in logs, all written by the log exporter under the same data directory.

    result = await ask("why did p95 latency double since noon?", settings=get_settings())
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from prometheus_client import CollectorRegistry

from analysts.base import Answer, Context
from analysts.prometheus import Prometheus
from analysts.router import Route, Router
from analysts.settings import AnalystsSettings
from clustering.store import load_snapshot
from exporters.catalogue import metrics
from security.secrets import load_secrets
from security.watch import load_detections

MAX_EXTRA = 5


def context_lines(
    analyst: str, settings: AnalystsSettings, services: Set[str] = frozenset(), limit: int = MAX_EXTRA
) -> list[str]:
    """Recent incident clusters (all analysts; only those on ``services`` when given), and for the
    security analyst stuffing detections and secrets seen in logs: up to ``limit`` lines of each."""
    lines = []
    snapshot = load_snapshot(settings.data_dir) or {}
    incidents = snapshot.get("incidents", [])
    if services:
        incidents = [i for i in incidents if services & set(i.get("services", []))]
    for inc in incidents[:limit]:
        lines.append(
            f"log cluster {inc['incidentId']} ({inc['severity']}, {inc['events']} events, services "
            f"{', '.join(inc['services'])}): {inc['templates'][0]}"
        )
    if analyst == "security":
        found = load_detections(settings.data_dir) or {}
        for d in found.get("detections", [])[-limit:]:
            lines.append(
                f"detection {d['shape']} ({d['severity']}): {d['accounts']} accounts from "
                f"{d['sources']} sources, {d['failures']} failures"
            )
        seen = (load_secrets(settings.data_dir) or {}).get("secrets", [])
        for x in [x for x in seen if not services or x["service"] in services][-limit:]:
            lines.append(
                f"secret seen in logs (masked before shipping): kind {x['kind']} in service "
                f"{x['service']}, {x['count']} times, first seen {x['firstSeen']}, last seen {x['lastSeen']}"
            )
    return lines


def count_route(chosen: Route, registry: CollectorRegistry | None = None) -> None:
    metrics(registry)["llm_sre_ask_total"].labels(analyst=chosen.analyst.name, method=chosen.method).inc()


async def route(settings: AnalystsSettings, question: str, labels: Mapping[str, str] | None = None) -> Route:
    return await Router(llm=settings.llm(), deadline=settings.deadline_seconds).route(question, labels)


async def ask(
    settings: AnalystsSettings,
    question: str,
    labels: Mapping[str, str] | None = None,
    route_only: bool = False,
    registry: CollectorRegistry | None = None,
) -> dict[str, Any]:
    chosen = await route(settings, question, labels)
    count_route(chosen, registry)
    if route_only:
        return {"analyst": chosen.analyst.name, "why": chosen.why, "method": chosen.method}
    prom = Prometheus(settings.prometheus_url, settings.evidence_seconds) if settings.prometheus_url else None
    ctx = Context(
        prom, settings.llm(), context_lines(chosen.analyst.name, settings), settings.deadline_seconds
    )
    answer: Answer = await chosen.analyst.answer(question, ctx, chosen.why)
    return answer.model_dump() | {"method": chosen.method}
