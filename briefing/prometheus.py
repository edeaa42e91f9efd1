"""A small read-only client for the Prometheus HTTP API: range and instant queries.

Not :class:`alert_webhooks.analysis.sources.PrometheusSource`: that one gathers evidence around one
incident and swallows failures, while a briefing needs whole weeks of named series and must say
*why* a section is missing. Failures become :class:`PrometheusError` with a reason a person can act
on ("unreachable", "timed out after 10 s", "query rejected: …").

    prom = Prometheus("http://prometheus:9090", timeout=10)
    series = await prom.range("max by (name) (llm_sre_container_memory_working_set_bytes)", start, end, 300)
"""

from __future__ import annotations

from typing import Any

import httpx

from briefing.series import Series

# Prometheus refuses a range query of more than 11,000 points per series; stay below it.
MAX_POINTS = 10_000


class PrometheusError(Exception):
    """The reason a query gave no data; ``str()`` is meant for the briefing's "Missing" section."""


class Prometheus:
    def __init__(
        self, url: str, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url, self.timeout, self._transport = url.rstrip("/"), timeout, transport

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                resp = await http.get(f"{self.url}{path}", params=params)
        except httpx.TimeoutException:
            raise PrometheusError(f"Prometheus did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise PrometheusError(f"Prometheus unreachable ({type(exc).__name__})") from None
        try:
            body = resp.json()
        except ValueError:
            raise PrometheusError(f"Prometheus answered HTTP {resp.status_code} without JSON") from None
        if resp.status_code >= 400 or body.get("status") != "success":
            raise PrometheusError(f"query rejected: {body.get('error', f'HTTP {resp.status_code}')}")
        return body["data"]

    async def range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """Series over ``[start, end]``, fetched in chunks below Prometheus' points limit."""
        merged: dict[tuple, tuple[dict[str, str], list, list]] = {}
        chunk = step * MAX_POINTS
        lo = start
        while lo <= end:
            hi = min(end, lo + chunk)
            data = await self._get(
                "/api/v1/query_range", {"query": expr, "start": lo, "end": hi, "step": step}
            )
            for result in data["result"]:
                s = Series.from_prometheus(result)
                key = tuple(sorted(s.labels.items()))
                _, times, values = merged.setdefault(key, (dict(s.labels), [], []))
                times.extend(s.times)
                values.extend(s.values)
            lo = hi + step
        return [Series(labels, tuple(t), tuple(v)) for labels, t, v in merged.values() if t]

    async def instant(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        data = await self._get("/api/v1/query", {"query": expr, "time": at})
        return [
            ({k: v for k, v in r["metric"].items() if k != "__name__"}, float(r["value"][1]))
            for r in data["result"]
        ]
