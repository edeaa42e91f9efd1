"""Rolling 1m/5m/1h aggregates of trace events, written as JSON for teams without Prometheus.

Each window file ``<dir>/<window>.json`` holds::

    {"ts": 1767225600.0, "window": "5m",
     "llm": {"calls": 120, "success_rate": 0.98, "p95_latency_ms": 850.0},
     "rag": {"retrievals": 80, "hit_rate": 0.9, "rerank_rate": 0.5},
     "cache": {"lookups": 300, "embed_hit_rate": 0.7}}

Rates are ``null`` when the window saw no event of that kind (0 would read as "all failed").
Samples are kept for the longest window only, in arrival order, so memory is bounded by the
event rate times one hour (a few MB at tens of events per second).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

WINDOWS: dict[str, float] = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 3)  # nearest-rank percentile


class Rollup:
    """Collects (time, kind, values) samples and writes the window summaries."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.clock = clock
        self._llm: deque[tuple[float, bool, float]] = deque()
        self._rag: deque[tuple[float, bool, bool]] = deque()
        self._cache: deque[tuple[float, bool]] = deque()

    def llm(self, ts: float, success: bool, latency_ms: float) -> None:
        self._llm.append((ts, success, latency_ms))

    def rag(self, ts: float, hit: bool, reranked: bool) -> None:
        self._rag.append((ts, hit, reranked))

    def cache(self, ts: float, hit: bool) -> None:
        self._cache.append((ts, hit))

    def _expire(self, now: float) -> None:
        horizon = now - max(WINDOWS.values())
        for samples in (self._llm, self._rag, self._cache):
            while samples and samples[0][0] < horizon:
                samples.popleft()

    def summary(self, window: str, now: float) -> dict[str, object]:
        since = now - WINDOWS[window]
        llm = [s for s in self._llm if s[0] >= since]
        rag = [s for s in self._rag if s[0] >= since]
        cache = [s for s in self._cache if s[0] >= since]
        return {
            "ts": now,
            "window": window,
            "llm": {"calls": len(llm), "success_rate": _rate([s[1] for s in llm]),
                    "p95_latency_ms": _p95([s[2] for s in llm])},
            "rag": {"retrievals": len(rag), "hit_rate": _rate([s[1] for s in rag]),
                    "rerank_rate": _rate([s[2] for s in rag])},
            "cache": {"lookups": len(cache), "embed_hit_rate": _rate([s[1] for s in cache])},
        }

    def write(self) -> None:
        now = self.clock()
        self._expire(now)
        self.folder.mkdir(parents=True, exist_ok=True)
        for window in WINDOWS:
            target = self.folder / f"{window}.json"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.summary(window, now), sort_keys=True))
            os.replace(tmp, target)  # readers never see a half-written file
