"""What a check is, what it gets (:class:`Context`) and the probes checks share.

A check is an async function ``Context -> Measured``. It raises :class:`ProbeError` (or anything)
when its target cannot be read; the runner turns that into a FAIL carrying the error, so an
unreachable Prometheus is a line in the report, never a traceback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from operations.settings import OperationsSettings
from operations.thresholds import ChecklistFile, Status, Threshold


class ProbeError(RuntimeError):
    """A target that did not answer usefully; the message names it."""


@dataclass(frozen=True)
class Measured:
    status: Status
    value: str
    threshold: str = ""
    note: str = ""  # why, when it is not a PASS (shown after the remedy)


@dataclass
class Context:
    settings: OperationsSettings
    config: ChecklistFile
    http: httpx.AsyncClient
    now: float = field(default_factory=time.time)

    def limit(self, name: str) -> Threshold:
        return self.config.limit(name)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET ``url``; a connection error or timeout becomes a ProbeError naming the URL."""
        return await self.request("GET", url, **kwargs)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProbeError(f"{method} {url}: {type(exc).__name__}: {exc or 'no answer'}") from None

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        resp = await self.get(url, **kwargs)
        if resp.status_code >= 400:
            raise ProbeError(f"GET {url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            return resp.json()
        except ValueError:
            raise ProbeError(f"GET {url}: answer is not JSON: {resp.text[:200]!r}") from None

    async def _query(self, query: str) -> Any:
        url = self.settings.prometheus_url.rstrip("/") + "/api/v1/query"
        data = await self.get_json(url, params={"query": query, "time": f"{self.now:.3f}"})
        if data.get("status") != "success":
            raise ProbeError(f"Prometheus refused {query!r}: {data.get('error', data)}")
        return data["data"]["result"]

    async def promql_labels(self, query: str) -> list[dict[str, str]]:
        """The label sets of an instant vector query's series."""
        return [series["metric"] for series in await self._query(query)]

    async def promql(self, query: str) -> float | None:
        """The first value of an instant query at ``now``; None when the result is empty or NaN."""
        result = await self._query(query)
        if not result:
            return None
        value = float(result[0]["value"][1]) if isinstance(result[0], dict) else float(result[1])
        return None if math.isnan(value) or math.isinf(value) else value


@dataclass(frozen=True)
class Check:
    """One checklist line. ``limits`` name the thresholds it grades by (docs list their defaults)."""

    name: str
    covers: str  # the design checklist item, as the docs table shows it
    remedy: str
    run: Callable[[Context], Awaitable[Measured]]
    limits: tuple[str, ...] = ()


def worst(*statuses: Status) -> Status:
    return max(statuses, default=Status.PASS)


def files(root: Path, pattern: str) -> Iterable[Path]:
    """Regular files under ``root`` matching ``pattern`` (recursively); nothing if it is missing."""
    return (p for p in root.rglob(pattern) if p.is_file()) if root.is_dir() else ()


def newest_mtime(root: Path, pattern: str = "*") -> float | None:
    return max((p.stat().st_mtime for p in files(root, pattern)), default=None)


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in files(root, "*"))


async def ratio(ctx: Context, metric: str, part: str, window: str, offset: str = "") -> float | None:
    """``part``'s share of ``metric``'s increase over ``window``; None when nothing was counted.

    ``or vector(0)`` keeps a window without a single matching sample (no errors at all) at 0
    instead of an empty result; an empty denominator still gives None.
    """
    off = f" offset {offset}" if offset else ""
    return await ctx.promql(
        f"(sum(increase({metric}{{{part}}}[{window}]{off})) or vector(0))"
        f" / sum(increase({metric}[{window}]{off}))"
    )
