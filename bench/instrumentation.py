"""Cost of recording one LLM call through ``Instruments``, against bare prometheus-client calls.

Both sides do the same work per call — time it with ``perf_counter``, observe the duration,
count the call, observe and count input and output tokens — into their own registries, in the
same run, so the ratio does not depend on the machine. Target: ≤ 1.5×. Also prints how long
``/metrics`` takes to render 10k series.

    .venv/bin/python bench/instrumentation.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import time
import timeit

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from exporters.catalogue import DURATION_BUCKETS, TOKEN_BUCKETS
from exporters.instrument import Instruments

GENAI = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type")


def bare_recorder():
    registry = CollectorRegistry()
    duration = Histogram("gen_ai_client_operation_duration_seconds", "d", GENAI, registry=registry,
                         buckets=DURATION_BUCKETS)
    usage = Histogram("gen_ai_client_token_usage", "u", (*GENAI, "gen_ai_token_type"), registry=registry,
                      buckets=TOKEN_BUCKETS)
    calls = Counter("llm_sre_llm_calls", "c", GENAI, registry=registry)
    tokens = Counter("llm_sre_llm_tokens", "t", ("gen_ai_provider_name", "gen_ai_request_model",
                                                  "gen_ai_token_type"), registry=registry)

    def record() -> None:
        start = time.perf_counter()
        labels = ("chat", "ollama", "qwen2.5:7b", "")
        duration.labels(*labels).observe(time.perf_counter() - start)
        calls.labels(*labels).inc()
        usage.labels(*labels, "input").observe(120)
        usage.labels(*labels, "output").observe(30)
        tokens.labels("ollama", "qwen2.5:7b", "input").inc(120)
        tokens.labels("ollama", "qwen2.5:7b", "output").inc(30)

    return record


def ours_recorder():
    inst = Instruments(CollectorRegistry())

    def record() -> None:
        with inst.llm_call(provider="ollama", model="qwen2.5:7b", operation="chat") as call:
            call.tokens(input=120, output=30)

    return record


def best_of(func, calls: int, repeat: int = 5) -> float:
    """Best per-call time over ``repeat`` runs (the least disturbed by other processes)."""
    return min(timeit.repeat(func, number=calls, repeat=repeat)) / calls


def render_seconds(series: int) -> float:
    registry = CollectorRegistry()
    counter = Counter("bench_requests", "r", ("route", "status"), registry=registry)
    for i in range(series):
        counter.labels(f"/r{i // 10}", str(200 + i % 10)).inc()
    return min(timeit.repeat(lambda: generate_latest(registry), number=1, repeat=3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    bare, ours = bare_recorder(), ours_recorder()
    bare_s, ours_s = best_of(bare, args.calls), best_of(ours, args.calls)
    print(f"bare prometheus-client, one LLM call: {bare_s * 1e6:7.2f} µs")
    print(f"Instruments.llm_call,  one LLM call: {ours_s * 1e6:7.2f} µs")
    print(f"ratio ours / bare: {ours_s / bare_s:.2f}x (target <= 1.5x)")
    small, large = render_seconds(1_000), render_seconds(10_000)
    # generate_latest emits _created too, so 10k counter children are 20k exposition lines.
    print(f"/metrics render, 10k series: {large * 1e3:.1f} ms ({large / small:.1f}x the 1k-series time)")


if __name__ == "__main__":
    main()
