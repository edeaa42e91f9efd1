"""Rolling 1m/5m/1h aggregates of trace events, written as JSON for teams without Prometheus.

Each window file ``<dir>/<window>.json`` holds::

    {"ts": 1767225600.0, "window": "5m",
     "llm": {"calls": 120, "success_rate": 0.98, "p95_latency_ms": 850.0},
     "rag": {"retrievals": 80, "hit_rate": 0.9, "rerank_rate": 0.5},
     "cache": {"lookups": 300, "embed_hit_rate": 0.7}}

Rates are ``null`` when the window saw no event of that kind (0 would read as "all failed").
Samples are kept for the longest window only, in arrival order, so memory is bounded by the
event rate times one hour (a few MB at tens of events per second).

The tailer never re-reads a line after a restart, so without help every window would start empty
and the 1h file would be wrong for an hour after each deploy. The samples are therefore saved to
``state_path`` with every write and loaded at start: a restart loses at most the events since the
last write (``LLM_SRE_AGGREGATE_SECONDS``), never counts one twice.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

WINDOWS: dict[str, float] = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _write_atomic(path: Path, data: object) -> None:
    """Readers (and a restart after a crash) never see a half-written file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))
    os.replace(tmp, path)


# The field types of each series' samples: (time, flags and values...).
_SHAPES: dict[str, tuple[type, ...]] = {"llm": (float, bool, float), "rag": (float, bool, bool),
                                        "cache": (float, bool)}


def _sample(kinds: tuple[type, ...], raw: Any) -> tuple[Any, ...]:
    """One saved sample, checked: a bad value must fail the load, not every later write."""
    if not isinstance(raw, list) or len(raw) != len(kinds):
        raise ValueError(f"bad sample {raw!r}")
    for kind, value in zip(kinds, raw, strict=True):
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (isinstance(value, bool) if kind is bool else is_number):
            raise ValueError(f"bad sample {raw!r}")
    return tuple(raw)


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 3)  # nearest-rank percentile


class Rollup:
    """Collects (time, kind, values) samples and writes the window summaries."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time,
                 state_path: Path | None = None) -> None:
        self.folder = folder
        self.clock = clock
        self.state_path = state_path
        self._llm: deque[tuple[float, bool, float]] = deque()
        self._rag: deque[tuple[float, bool, bool]] = deque()
        self._cache: deque[tuple[float, bool]] = deque()
        self._load()

    def _series(self) -> dict[str, deque[Any]]:
        return {"llm": self._llm, "rag": self._rag, "cache": self._cache}

    def _load(self) -> None:
        """Samples saved by the previous run; an unreadable state file just means starting empty."""
        if self.state_path is None:
            return
        try:
            saved = json.loads(self.state_path.read_text())
            loaded = {name: [_sample(kinds, s) for s in saved[name]] for name, kinds in _SHAPES.items()}
        except (OSError, ValueError, KeyError, TypeError):
            return
        for name, samples in self._series().items():
            samples.extend(loaded[name])
        self._expire(self.clock())

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
            _write_atomic(self.folder / f"{window}.json", self.summary(window, now))
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.state_path, {name: list(samples) for name, samples in self._series().items()})
