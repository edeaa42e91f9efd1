"""The weekly list: RAG hit and rerank rates, cache hit rate (each against the week before), vector
store size and growth, and trace files due for archiving."""

from __future__ import annotations

import json
from pathlib import Path

from operations.checks import Check, Context, Measured, files, ratio, tree_bytes, worst
from operations.thresholds import Status, fmt

WEEK = 7 * 86400


async def _trend(ctx: Context, metric: str, part: str, level: str | None, drop: str) -> Measured:
    """This week's share of ``part`` against last week's: graded on its level and on its fall."""
    this = await ratio(ctx, metric, part, "7d")
    last = await ratio(ctx, metric, part, "7d", offset="7d")
    drop_limit = ctx.limit(drop)
    threshold = f"fall vs last week {drop_limit}"
    if level is not None:
        threshold = f"{ctx.limit(level)}; {threshold}"
    if this is None:
        return Measured(Status.WARN, "no data this week", threshold, f"{metric} has no samples in 7d")
    status = ctx.limit(level).grade(this) if level is not None else Status.PASS
    value = f"{this:.1%}"
    if last is not None:
        status = worst(status, drop_limit.grade(last - this))
        value += f" (last week {last:.1%})"
    return Measured(status, value, threshold)


async def rag_hit_rate(ctx: Context) -> Measured:
    return await _trend(ctx, "llm_sre_rag_retrievals_total", 'outcome="hit"', "rag_hit_rate",
                        "rag_hit_rate_drop")


async def rerank_rate(ctx: Context) -> Measured:
    return await _trend(ctx, "llm_sre_rag_reranks_total", 'outcome="applied"', None, "rerank_rate_drop")


async def cache_hit_rate(ctx: Context) -> Measured:
    return await _trend(ctx, "llm_sre_cache_requests_total", 'result="hit"', "cache_hit_rate",
                        "cache_hit_rate_drop")


def vector_store_dir(ctx: Context) -> Path:
    return ctx.config.vector_store_dir or ctx.settings.data_dir / "chroma"


async def vector_store_growth(ctx: Context) -> Measured:
    root = vector_store_dir(ctx)
    if not root.is_dir():
        return Measured(Status.WARN, "not found", "", f"{root} does not exist: set vector_store_dir")
    size = tree_bytes(root)
    size_limit, growth_limit = ctx.limit("vector_store_bytes"), ctx.limit("vector_store_weekly_growth")
    threshold = f"size {size_limit}; weekly growth {growth_limit}"
    # The size at the previous run is kept beside the statuses; growth is scaled to a week.
    state = ctx.settings.state_dir / "vector_store.json"
    before = json.loads(state.read_text()) if state.is_file() else None
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"bytes": size, "ts": ctx.now}))
    status, value = size_limit.grade(size), fmt(size, "B")
    if not before or before["bytes"] <= 0 or ctx.now - before["ts"] < 3600:
        return Measured(status, value, threshold, "growth: first measurement, baseline recorded")
    growth = (size - before["bytes"]) / before["bytes"] * WEEK / (ctx.now - before["ts"])
    return Measured(worst(status, growth_limit.grade(growth)), f"{value}, {growth:+.1%}/week", threshold)


async def trace_retention(ctx: Context) -> Measured:
    cutoff = ctx.now - ctx.config.retention_days * 86400
    stale = [p for p in files(ctx.settings.traces, "*.jsonl") if p.stat().st_mtime < cutoff]
    limit = ctx.limit("stale_trace_files")
    size = sum(p.stat().st_size for p in stale)
    value = f"{len(stale)} uncompressed files older than {ctx.config.retention_days:g} d ({fmt(size, 'B')})"
    return Measured(limit.grade(len(stale)), value, str(limit))


CHECKS: tuple[Check, ...] = (
    Check("rag_hit_rate", "RAG hit rate trend", "check the embedding model and index freshness; "
          "re-index if documents changed", rag_hit_rate, ("rag_hit_rate", "rag_hit_rate_drop")),
    Check("rerank_rate", "reranker usage trend", "look for reranker fallbacks "
          "(llm_sre_rag_reranks_total{outcome=\"fallback\"}) and its server", rerank_rate,
          ("rerank_rate_drop",)),
    Check("cache_hit_rate", "cache hit rate trend", "review cache invalidation and key strategy "
          "(a model or prompt change resets keys)", cache_hit_rate,
          ("cache_hit_rate", "cache_hit_rate_drop")),
    Check("vector_store_growth", "Chroma DB size / growth", "look for duplicate ingestion; compact or "
          "prune the collection", vector_store_growth, ("vector_store_bytes", "vector_store_weekly_growth")),
    Check("trace_retention", "trace retention (archive old JSONL)", "gzip or archive *.jsonl older than "
          "retention_days (the exporter tails only live files)", trace_retention, ("stale_trace_files",)),
)
