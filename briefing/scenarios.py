"""A realistic week of an LLM app's metrics, written as OpenMetrics for
``promtool tsdb create-blocks-from openmetrics``: the data the backtest proves itself on.

Three slow problems hide in ordinary noise — a memory leak in one container (with an OOM kill and
restart when it reaches the limit), an error ratio creeping up until the availability SLO's ticket
alert fires, and an embedding-cache hit rate falling for days until its SLO alert fires — beside
healthy containers with daily cycles (one of them, the model server, swinging by a gigabyte a day),
diurnal traffic and count noise. Every rate, start time and amplitude is drawn from ``seed``, so the
benchmark runs many different weeks, not the one the test happens to use.

    scenario = realistic_week(end=time.time() // 3600 * 3600, seed=1)
    Path("week.om").write_text(scenario.openmetrics)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

DAY = 86400.0
MIB = 2**20


@dataclass(frozen=True)
class Scenario:
    start: float
    end: float
    step: float
    openmetrics: str
    # What was injected, for reports and for picking moments in tests (never read by the engine).
    injected: dict[str, str] = field(default_factory=dict)
    leak_crosses: float = 0.0  # when the leaking container first reaches 90% of its limit


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


class _Writer:
    def __init__(self, times: list[float]) -> None:
        self.times = times
        self.families: dict[str, tuple[str, list[str]]] = {}

    def series(self, family: str, kind: str, labels: dict[str, str], values: list[float]) -> None:
        name = f"{family}_total" if kind == "counter" else family
        lines = self.families.setdefault(family, (kind, []))[1]
        lab = _labels(labels)
        lines.extend(f"{name}{lab} {v:.6g} {t:.0f}" for t, v in zip(self.times, values, strict=True))

    def text(self) -> str:
        out: list[str] = []
        for family, (kind, lines) in self.families.items():
            out.append(f"# TYPE {family} {kind}")
            out.extend(lines)
        out.append("# EOF")
        return "\n".join(out) + "\n"


def _cumulative(increments: Iterator[float]) -> list[float]:
    total, out = 0.0, []
    for inc in increments:
        total += max(0.0, inc)
        out.append(total)
    return out


def realistic_week(end: float, *, days: float = 7.0, step: float = 300.0, seed: int = 0) -> Scenario:
    rng = random.Random(seed)
    start = end - days * DAY
    times = [start + i * step for i in range(int(days * DAY / step) + 1)]
    w = _Writer(times)
    rel = [(t - start) / DAY for t in times]  # days since the start
    diurnal = [0.65 + 0.35 * math.sin(2 * math.pi * ((t % DAY) / DAY - 0.375)) for t in times]

    def noisy(mean: float, sd: float) -> float:
        return max(0.0, rng.gauss(mean, sd))

    # --- containers ------------------------------------------------------------------------------
    leak_limit = 2048 * MIB
    leak_cross_day = rng.uniform(5.6, 6.8)  # when the leak reaches 90% of the limit
    leak_base = rng.uniform(450, 600) * MIB
    leak_start = rng.uniform(0.3, 0.8)
    leak_rate = (0.9 * leak_limit - leak_base) / (leak_cross_day - leak_start)  # per day
    containers: dict[str, tuple[float, Callable[[int], float], float]] = {
        # name: (limit, memory(i), cpu cores at peak)
        "api": (1024 * MIB, lambda i: noisy((300 + 80 * diurnal[i]) * MIB, 8 * MIB), 0.6),
        "ollama": (8192 * MIB, lambda i: noisy((5200 + 1200 * diurnal[i]) * MIB, 60 * MIB), 3.0),
        "redis": (512 * MIB, lambda i: noisy((140 + 20 * diurnal[i]) * MIB, 3 * MIB), 0.2),
    }
    for name, (limit, memory, cpu) in containers.items():
        _container(w, name, limit, [memory(i) for i in range(len(times))], cpu, diurnal, step, rng, [])
    # The leaking vector store: grows steadily (with a GC sawtooth) until the kernel kills it.
    memory, restarts_at, origin = [], [], start + leak_start * DAY
    for i, t in enumerate(times):
        value = leak_base + leak_rate * max(0.0, t - origin) / DAY + 25 * MIB * (i % 12) / 12
        value += rng.gauss(0, 6 * MIB)
        if value >= 0.985 * leak_limit:  # the OOM kill; the restarted process leaks again
            restarts_at.append(i)
            origin, value = t, leak_base
        memory.append(value)
    _container(w, "chroma", leak_limit, memory, 0.4, diurnal, step, rng, restarts_at)

    # --- LLM traffic and errors ------------------------------------------------------------------
    rps = rng.uniform(0.8, 1.5)
    burn_start = rng.uniform(1.0, 2.0)
    burn_slope = rng.uniform(0.0025, 0.0035)  # error ratio added per day
    calls = [noisy(rps * step * d, math.sqrt(rps * step * d)) for d in diurnal]
    ratio = [0.003 + burn_slope * max(0.0, r - burn_start) for r in rel]
    errors = [noisy(c * e, math.sqrt(c * e)) for c, e in zip(calls, ratio, strict=True)]
    base = {"service": "llm-app", "job": "llm-app", "gen_ai_provider_name": "ollama",
            "gen_ai_request_model": "qwen2.5:7b", "gen_ai_operation_name": "chat"}  # fmt: skip
    w.series("llm_sre_llm_calls", "counter", {**base, "error_type": ""},
             _cumulative(c - e for c, e in zip(calls, errors, strict=True)))  # fmt: skip
    w.series(
        "llm_sre_llm_calls", "counter", {**base, "error_type": "TimeoutError"}, _cumulative(iter(errors))
    )
    tokens = {k: v for k, v in base.items() if k != "gen_ai_operation_name"}
    w.series("llm_sre_llm_tokens", "counter", {**tokens, "gen_ai_token_type": "input"},
             _cumulative(noisy(c * 900, c * 30) for c in calls))  # fmt: skip
    w.series("llm_sre_llm_tokens", "counter", {**tokens, "gen_ai_token_type": "output"},
             _cumulative(noisy(c * 250, c * 15) for c in calls))  # fmt: skip

    # --- RAG and the embedding cache -------------------------------------------------------------
    cache_start = rng.uniform(1.5, 2.5)
    cache_slope = rng.uniform(0.04, 0.06)  # hit ratio lost per day
    hit_ratio = [0.93 - cache_slope * max(0.0, r - cache_start) for r in rel]
    lookups = [noisy(c * 4, math.sqrt(c * 4)) for c in calls]
    hits = [noisy(n * h, math.sqrt(n * h * (1 - h))) for n, h in zip(lookups, hit_ratio, strict=True)]
    app = {"service": "llm-app", "job": "llm-app"}
    w.series("llm_sre_cache_requests", "counter", {**app, "cache": "embedding", "result": "hit"},
             _cumulative(iter(hits)))  # fmt: skip
    w.series("llm_sre_cache_requests", "counter", {**app, "cache": "embedding", "result": "miss"},
             _cumulative(n - h for n, h in zip(lookups, hits, strict=True)))  # fmt: skip
    empty = [noisy(c * 0.02, math.sqrt(c * 0.02)) for c in calls]
    w.series("llm_sre_rag_retrievals", "counter", {**app, "outcome": "hit"},
             _cumulative(c - e for c, e in zip(calls, empty, strict=True)))  # fmt: skip
    w.series("llm_sre_rag_retrievals", "counter", {**app, "outcome": "empty"}, _cumulative(iter(empty)))

    injected = {
        "leak": f"chroma memory +{leak_rate / MIB:.0f} MiB/day from day {leak_start:.2f}, "
                f"90% of {leak_limit // MIB} MiB at day {leak_cross_day:.2f}",
        "burn": f"llm-app error ratio +{burn_slope * 100:.2f} points/day from day {burn_start:.2f}",
        "cache": f"embedding cache hit ratio -{cache_slope * 100:.1f} points/day from day {cache_start:.2f}",
    }  # fmt: skip
    return Scenario(start, end, step, w.text(), injected, start + leak_cross_day * DAY)


def _container(
    w: _Writer, name: str, limit: float, memory: list[float], cpu: float, diurnal: list[float], step: float,
    rng: random.Random, restarts_at: list[int],
) -> None:  # fmt: skip
    labels = {"name": name, "compose_service": name, "job": "exporter"}
    n = len(memory)
    w.series("llm_sre_container_memory_working_set_bytes", "gauge", labels, memory)
    w.series("llm_sre_container_spec_memory_limit_bytes", "gauge", labels, [limit] * n)
    w.series("llm_sre_container_cpu_usage_seconds", "counter", labels,
             _cumulative(max(0.0, rng.gauss(cpu * d, cpu * 0.05)) * step for d in diurnal))  # fmt: skip
    kills = set(restarts_at)
    w.series(
        "llm_sre_container_restarts", "counter", labels, _cumulative(float(i in kills) for i in range(n))
    )
    w.series(
        "llm_sre_container_oom_kills", "counter", labels, _cumulative(float(i in kills) for i in range(n))
    )
