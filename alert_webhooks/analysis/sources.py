"""Evidence sources: Prometheus (HTTP API) and Loki (``query_range``) around the incident start.

Each source turns a :class:`Case` into :class:`Finding` s and never raises for the outside
world's failures — an unreachable Prometheus costs evidence, not the analysis. The analyst
bounds each source with a deadline; each request also has its own timeout.

    findings = await PrometheusSource("http://prom:9090").collect(case)
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from alert_webhooks.analysis.logpatterns import LEVEL_WEIGHT, LogPattern, compress

if TYPE_CHECKING:
    from alert_webhooks.analysis.case import Case

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One thing the analyst learnt. ``text`` is verbatim (a log line as logged); ``count`` and
    ``level`` describe a log pattern; ``headline`` says it in words where the text is a dump."""

    source: str
    text: str
    weight: float = 0.0
    count: int | None = None
    level: str | None = None
    headline: str = ""


class EvidenceSource(Protocol):
    name: str

    async def collect(self, case: Case) -> list[Finding]: ...


def fmt(value: float) -> str:
    """Numbers as an engineer (and a grounding check) reads them: 1073741824, 0.4512, not 1.07e+09."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def pattern_findings(source: str, patterns: Iterable[LogPattern]) -> list[Finding]:
    """One finding per pattern: its example line, how often it occurred, its level."""
    return [
        Finding(source, p.example, LEVEL_WEIGHT[p.level] + math.log10(p.count) / 2, p.count, p.level)
        for p in patterns
    ]


def rule_expressions(case: Case, limit: int = 3) -> list[str]:
    """The alerting rules' PromQL, read from Prometheus' ``generatorURL`` (``/graph?g0.expr=…``)."""
    exprs: dict[str, None] = {}
    for alert in case.alerts:
        for expr in parse_qs(urlsplit(alert.generator_url).query).get("g0.expr", []):
            exprs[expr.strip()] = None
    return list(exprs)[:limit]


def _series_label(metric: dict[str, str], drop: Sequence[str]) -> str:
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__" and k not in drop)
    return f"{name}{{{rest}}}" if rest or not name else name


def describe_series(title: str, metric: dict[str, str], values: list[list], at: datetime) -> Finding:
    """Summarise a range of samples as first → last, min/max and the value at the incident start."""
    points = [(float(t), float(v)) for t, v in values]
    nums = [v for _, v in points]
    before = [v for t, v in points if t <= at.timestamp()] or nums
    change = abs(nums[-1] - nums[0]) / max(abs(nums[0]), 1e-9)
    text = (
        f"{title} {_series_label(metric, ())}: {fmt(nums[0])} → {fmt(nums[-1])}, "
        f"min {fmt(min(nums))}, max {fmt(max(nums))}, at incident start {fmt(before[-1])}"
    )
    # The label dump is for grepping; a sentence names the series by its metric and target only.
    name = metric.get("__name__") or title.split("`")[1 if "`" in title else 0]
    where = next((f" for {k}={metric[k]}" for k in _TARGETS if metric.get(k)), "")
    headline = f"{name}{where} went from {fmt(nums[0])} to {fmt(nums[-1])} (max {fmt(max(nums))})"
    return Finding("prometheus", text, 0.5 + min(2.0, change), headline=headline)


_TARGETS = ("service", "compose_service", "job", "instance", "model", "cache")


class HttpSource:
    """A base URL, a per-request timeout and the window around the incident start to look at."""

    name = ""
    before = timedelta(minutes=15)
    after = timedelta(minutes=5)

    def __init__(
        self, url: str, timeout: float = 2.0, window: tuple[timedelta, timedelta] | None = None
    ) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        if window is not None:
            self.before, self.after = window


class PrometheusSource(HttpSource):
    """The rule's own expression plus series sharing the alert's target label, over a window."""

    name = "prometheus"
    max_series = 8  # related metric names queried, each for at most 3 series

    async def _get(self, http: httpx.AsyncClient, path: str, params: dict[str, object]) -> object:
        resp = await http.get(f"{self.url}{path}", params=params)
        resp.raise_for_status()
        body = resp.json()
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus {path}: {body.get('error')}")
        return body["data"]

    async def _range(self, http: httpx.AsyncClient, expr: str, case: Case) -> list[dict]:
        span = (self.before + self.after).total_seconds()
        data = await self._get(
            http,
            "/api/v1/query_range",
            {
                "query": expr,
                "start": (case.at - self.before).timestamp(),
                "end": (case.at + self.after).timestamp(),
                "step": max(15, int(span // 60)),
            },
        )
        return [s for s in data["result"] if s.get("values")]  # type: ignore[index]

    async def _related(self, http: httpx.AsyncClient, case: Case) -> list[str]:
        target = case.target()
        if target is None:
            return []
        selector = f"{{{target[0]}={json.dumps(target[1])}}}"
        series = await self._get(
            http,
            "/api/v1/series",
            {"match[]": selector, "start": (case.at - self.before).timestamp(), "end": case.at.timestamp()},
        )
        names = sorted(
            {
                s["__name__"]
                for s in series  # type: ignore[union-attr]
                if not s["__name__"].startswith(("ALERTS", "scrape_"))
                and not s["__name__"].endswith(("_bucket", "_created"))
            }
        )
        counters = ("_total", "_count", "_sum")
        return [
            f"rate({n}{selector}[5m])" if n.endswith(counters) else f"{n}{selector}"
            for n in names[: self.max_series]
        ]

    async def collect(self, case: Case) -> list[Finding]:
        findings: list[Finding] = []
        # A client per call: the worker, the API and the CLI each run their own event loop.
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                queries = [("rule", e) for e in rule_expressions(case)]
                queries += [("related", e) for e in await self._related(http, case)]
                for title, expr in queries:
                    for series in (await self._range(http, expr, case))[:3]:
                        findings.append(
                            describe_series(f"{title} `{expr}`", series["metric"], series["values"], case.at)
                        )
        except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
            log.warning("prometheus evidence incomplete: %s", type(exc).__name__)
        return findings


# A line filter keeps Loki's limit for the lines that explain an incident.
_LOG_FILTER = (
    "(?i)(error|warn|fail|exception|timeout|timed out|refused|denied|killed|fatal|panic|oom|traceback)"
)
LOKI_LABELS = ("service", "compose_service", "job", "container", "name")


class LokiSource(HttpSource):
    """Error-ish lines of the affected service around the start, compressed into patterns."""

    name = "loki"
    before = timedelta(minutes=10)
    after = timedelta(minutes=2)
    limit = 500  # lines per query: Loki's default is 100

    def query(self, case: Case) -> str | None:
        for key in LOKI_LABELS:
            if value := case.lead.labels.get(key):
                return f"{{{key}={json.dumps(value)}}} |~ {json.dumps(_LOG_FILTER)}"
        return None

    async def collect(self, case: Case) -> list[Finding]:
        query = self.query(case)
        if query is None:
            return []
        params = {
            "query": query,
            "start": str(int((case.at - self.before).timestamp() * 1e9)),
            "end": str(int((case.at + self.after).timestamp() * 1e9)),
            "limit": self.limit,
            "direction": "backward",
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                resp = await http.get(f"{self.url}/loki/api/v1/query_range", params=params)
            resp.raise_for_status()
            streams = resp.json()["data"]["result"]
            lines = [value[1] for stream in streams for value in stream["values"]]
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            log.warning("loki evidence unavailable: %s", type(exc).__name__)
            return []
        return pattern_findings(
            "loki", compress(reversed(lines))
        )  # oldest first: examples are the first seen
