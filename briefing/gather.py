"""Gathering a briefing's inputs: Prometheus range and instant queries, and the incident store.

Every section is gathered under its own deadline and fails on its own: a slow Prometheus costs the
trends, not the incidents, and the briefing lists what is missing and why instead of coming back
empty (or, worse, saying "nothing wrong").

    inputs = await gather(Prometheus(url), store, at=time.time(), period=86400)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from alert_webhooks.analysis.sources import fmt
from alert_webhooks.incidents import Incident
from alert_webhooks.store import IncidentFilter, Store, call
from briefing.engine import Config, IncidentView, Inputs
from briefing.forecast import DAY
from briefing.items import Advice, Evidence, Missing
from briefing.prometheus import Prometheus, PrometheusError
from briefing.series import Series, subject_of
from briefing.specs import ADVICE, AdviceSpec

log = logging.getLogger(__name__)
T = TypeVar("T")
HISTORY_DAYS = 7
MAX_INCIDENTS = 2000  # newest first; a period with more than this is summarised from the newest


async def _section(
    name: str, work: Callable[[], Awaitable[T]], deadline: float, missing: list[Missing]
) -> T | None:
    try:
        return await asyncio.wait_for(work(), deadline)
    except TimeoutError:
        missing.append(Missing(name, f"not gathered within {deadline:g} s (Prometheus or the store is slow)"))
    except PrometheusError as exc:
        missing.append(Missing(name, str(exc)))
    except Exception as exc:  # a broken store or an odd answer costs the section, not the briefing
        log.warning("briefing section %s failed: %s", name, type(exc).__name__)
        missing.append(Missing(name, f"failed: {type(exc).__name__}"))
    return None


async def fetch_series(
    prom: Prometheus, specs: Sequence[tuple[str, str]], start: float, end: float, step: float
) -> dict[str, list[Series]]:
    """``specs`` as (name, expr) pairs, queried concurrently over one range."""
    results = await asyncio.gather(*(prom.range(expr, start, end, step) for _, expr in specs))
    return {name: found for (name, _), found in zip(specs, results, strict=True)}


def view(incident: Incident) -> IncidentView:
    """The store's incident as the engine sees it; a firing incident has no end yet."""
    ends = incident.ends_at if incident.status == "resolved" else None
    starts = incident.starts_at.timestamp()
    return IncidentView(incident.alertname, incident.service, incident.severity, starts,
                        ends.timestamp() if ends else None)  # fmt: skip


async def read_incidents(store: Store) -> list[IncidentView]:
    found, _ = await call(store, store.incidents, IncidentFilter(), MAX_INCIDENTS, 0)
    return [view(i) for i in found]


async def advice(
    prom: Prometheus, at: float, period: float, specs: Sequence[AdviceSpec] = ADVICE
) -> list[Advice]:
    window = f"{int(period)}s"
    found: list[Advice] = []
    for spec in specs:
        expr = spec.expr.replace("{period}", window)
        for labels, value in await prom.instant(expr, at):
            shown = fmt(round(value, 3))
            text = spec.text.format_map({**_Default(labels), "value": shown})
            found.append(Advice(subject_of(spec.subject, labels), spec.name, text,
                                Evidence(expr, shown, at - period, at)))  # fmt: skip
    return found


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "?"


async def gather(
    prom: Prometheus | None,
    store: Store | None,
    at: float,
    period: float,
    config: Config | None = None,
    *,
    step: float = 300.0,
    deadline: float = 20.0,
) -> Inputs:
    config = config or Config()
    missing: list[Missing] = []
    incidents: list[IncidentView] = []
    if store is None:
        missing.append(
            Missing("top_issues", "no incident store (the webhook service has not stored any yet)")
        )
    else:
        incidents = await _section("top_issues", lambda: read_incidents(store), deadline, missing) or []
    if prom is None:
        reason = "no Prometheus configured (PROMETHEUS_URL)"
        missing += [Missing(s, reason) for s in ("trends", "early_warnings", "efficiency")]
        return Inputs(at, period, {}, incidents, (), missing)
    history = period + HISTORY_DAYS * DAY
    trend_specs = [(s.name, s.expr) for s in config.trends]
    forecast_specs = [(s.name, s.expr) for s in config.forecasts]
    trends, forecasts, found_advice = await asyncio.gather(
        _section("trends", lambda: fetch_series(prom, trend_specs, at - history, at, step),
                 deadline, missing),
        _section("early_warnings",
                 lambda: fetch_series(prom, forecast_specs, at - config.lookback, at, step),
                 deadline, missing),
        _section("efficiency", lambda: advice(prom, at, period), deadline, missing),
    )  # fmt: skip
    return Inputs(at, period, {**(trends or {}), **(forecasts or {})}, incidents, found_advice or (), missing)
