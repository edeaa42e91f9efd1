"""Instant PromQL readings for the analysts: each query now and one hour earlier, for the trend.

Unlike :class:`alert_webhooks.analysis.sources.PrometheusSource` (a window around one alert), an
analyst answers a question about *now*; the hour-ago value turns "2.1 s" into "2.1 s, up from 1.0 s".
Failures cost evidence (the reading is missing and the answer says so), never the answer.

    readings = await Prometheus("http://prom:9090").read(queries, deadline=3)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from cachetools import TTLCache

from alert_webhooks.analysis.sources import fmt

if TYPE_CHECKING:
    from analysts.base import Query

log = logging.getLogger(__name__)
HOUR = 3600.0


@dataclass(frozen=True)
class Reading:
    name: str
    label: str
    now: float
    before: float | None
    series: str  # the labels of the series reported (the largest one when several come back)
    unit: str = ""

    @property
    def change(self) -> float | None:
        """now / before, when both exist and before is not zero."""
        return self.now / self.before if self.before not in (None, 0) else None

    @property
    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        where = f" for {self.series}" if self.series else ""
        trend = f", {fmt(self.before)}{unit} one hour earlier" if self.before is not None else ""
        return f"{self.label}{where}: {fmt(self.now)}{unit} now{trend}"


class Prometheus:
    def __init__(self, url: str, timeout: float = 3.0, clock: Callable[[], float] = time.time) -> None:
        self.url, self.timeout, self.clock = url.rstrip("/"), timeout, clock

    async def _instant(self, http: httpx.AsyncClient, expr: str, at: float) -> list[tuple[dict, float]]:
        resp = await http.get(f"{self.url}/api/v1/query", params={"query": expr, "time": at})
        resp.raise_for_status()
        body = resp.json()
        out = []
        for series in body.get("data", {}).get("result", []):
            value = float(series["value"][1])
            if not math.isnan(value) and not math.isinf(value):
                out.append((series.get("metric", {}), value))
        return sorted(out, key=lambda s: -s[1])

    async def _one(self, http: httpx.AsyncClient, q: Query, now: float) -> Reading | None:
        current = await self._instant(http, q.expr, now)
        if not current:
            return None
        metric, value = current[0]
        before = await self._instant(http, q.expr, now - HOUR)
        match = [v for m, v in before if m == metric]
        series = ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__")
        return Reading(q.name, q.label, value, match[0] if match else None, series, q.unit)

    async def read(self, queries: Sequence[Query], deadline: float = 3.0) -> dict[str, Reading]:
        now = self.clock()
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                results = await asyncio.wait_for(
                    asyncio.gather(*(self._one(http, q, now) for q in queries), return_exceptions=True),
                    deadline,
                )
        except TimeoutError:
            log.warning("prometheus readings missed the %.1fs deadline", deadline)
            return {}
        readings = {}
        for q, r in zip(queries, results, strict=True):
            if isinstance(r, Exception):
                log.warning("prometheus query %s failed: %s", q.name, type(r).__name__)
            elif r is not None:
                readings[q.name] = r
        return readings


class CachedPrometheus(Prometheus):
    """Readings reused for ``ttl`` seconds: alerts arriving together (a storm routed to one
    analyst) ask the same queries about the same "now", and Prometheus need answer them once."""

    def __init__(
        self, url: str, timeout: float = 3.0, ttl: float = 15.0, timer: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(url, timeout)
        self._cache: TTLCache[tuple[str, ...], dict[str, Reading]] = TTLCache(16, ttl, timer=timer)

    async def read(self, queries: Sequence[Query], deadline: float = 3.0) -> dict[str, Reading]:
        key = tuple(q.expr for q in queries)
        if (hit := self._cache.get(key)) is not None:
            return hit
        readings = await super().read(queries, deadline)
        if readings:  # an outage is not cached: the next alert tries again
            self._cache[key] = readings
        return readings
