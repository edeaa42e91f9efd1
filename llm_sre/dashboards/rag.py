"""RAG and caches: did retrieval find anything useful, did reranking run, do the caches pay off.

Retrieval quality moves before users complain: empty retrievals and falling top scores are the
early signs of a broken index or embedding model, so they sit next to the latency panels.
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-rag"

SVC = '{service=~"$service"}'
CACHE = '{cache=~"$cache"}'
RETRIEVALS = "llm_sre_rag_retrievals_total"
RERANKS = "llm_sre_rag_reranks_total"
CACHE_REQUESTS = "llm_sre_cache_requests_total"


def _outcome(outcome: str, extra: str = "") -> str:
    return f'{{service=~"$service", outcome="{outcome}"{extra}}}'


def board() -> Board:
    hit_rate = p.ratio(p.rate(RETRIEVALS, _outcome("hit")), p.rate(RETRIEVALS, SVC))
    empty_rate = p.ratio(p.rate(RETRIEVALS, _outcome("empty")), p.rate(RETRIEVALS, SVC))
    rerank_rate = p.ratio(p.rate(RERANKS, _outcome("applied")), p.rate(RERANKS, SVC))
    cache_hits = '{cache=~"$cache", result="hit"}'
    cache_hit_rate = p.ratio(p.rate(CACHE_REQUESTS, cache_hits), p.rate(CACHE_REQUESTS, CACHE))
    cache_hit_by_cache = p.ratio(
        p.rate(CACHE_REQUESTS, cache_hits, ("cache",)), p.rate(CACHE_REQUESTS, CACHE, ("cache",))
    )
    empty_limits = p.thresholds((None, "green"), (0.05, "orange"), (0.2, "red"))

    retrieval = Row(
        "Retrieval",
        [
            p.Tile(
                p.stat_panel(
                    "Retrieval hit rate",
                    p.Query(hit_rate),
                    unit="percentunit",
                    limits=p.thresholds((None, "red"), (0.8, "orange"), (0.95, "green")),
                    description="Retrievals that returned at least one document.",
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Empty retrievals",
                    p.Query(empty_rate),
                    unit="percentunit",
                    limits=empty_limits,
                    description="Share of retrievals that found nothing: a broken index shows here first.",
                )
            ),
            p.Tile(p.stat_panel("Rerank applied", p.Query(rerank_rate), unit="percentunit")),
            p.Tile(
                p.stat_panel(
                    "Cache hit rate",
                    p.Query(cache_hit_rate),
                    unit="percentunit",
                    limits=p.thresholds((None, "orange"), (0.3, "green")),
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Retrievals by outcome",
                    [
                        p.Query(p.rate(RETRIEVALS, SVC, ("outcome",)), "{{outcome}}"),
                    ],
                    unit="reqps",
                    stack=True,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Retrieval latency",
                    p.percentiles("llm_sre_rag_retrieval_duration_seconds", SVC),
                    unit="s",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Documents per retrieval",
                    [
                        p.Query(p.mean("llm_sre_rag_documents", SVC), "mean"),
                        p.Query(p.quantile(0.95, "llm_sre_rag_documents", SVC), "p95"),
                    ],
                    unit="short",
                    min_value=0,
                )
            ),
            p.Tile(
                p.heatmap_panel(
                    "Top score distribution",
                    f"sum by (le) (increase(llm_sre_rag_top_score_bucket{SVC}[$__rate_interval]))",
                    unit="short",
                    description="Similarity of the best document per retrieval; a shift down means "
                    "worse matches.",
                )
            ),
        ],
    )
    rerank = Row(
        "Reranking and context",
        [
            p.Tile(
                p.timeseries_panel(
                    "Reranks by outcome",
                    [
                        p.Query(p.rate(RERANKS, SVC, ("outcome",)), "{{outcome}}"),
                    ],
                    unit="reqps",
                    stack=True,
                    description="fallback = the reranker failed and the raw order was used.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Rerank latency p95 by model",
                    [
                        p.Query(
                            p.quantile(0.95, "llm_sre_rag_rerank_duration_seconds", SVC, ("rerank_model",)),
                            "{{rerank_model}}",
                        ),
                    ],
                    unit="s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Context tokens per request",
                    p.percentiles("llm_sre_rag_context_tokens", SVC, qs=(0.5, 0.95)),
                    unit="short",
                    min_value=0,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Evaluation scores",
                    p.percentiles("llm_sre_eval_score", qs=(0.5, 0.1), by=("metric",), legend="{{metric}} "),
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                    description="Grounding/evaluation scores (0..1); p10 shows the worst answers.",
                )
            ),
        ],
    )
    caches = Row(
        "Caches",
        [
            p.Tile(
                p.timeseries_panel(
                    "Hit rate per cache",
                    [p.Query(cache_hit_by_cache, "{{cache}}")],
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Lookup latency p95 per cache",
                    [
                        p.Query(
                            p.quantile(0.95, "llm_sre_cache_lookup_duration_seconds", CACHE, ("cache",)),
                            "{{cache}}",
                        ),
                    ],
                    unit="s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Entries per cache",
                    [
                        p.Query(f"sum by (cache) (llm_sre_cache_entries{CACHE})", "{{cache}}"),
                    ],
                    unit="short",
                    min_value=0,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Evictions per second",
                    [
                        p.Query(p.rate("llm_sre_cache_evictions_total", CACHE, ("cache",)), "{{cache}}"),
                    ],
                    unit="ops",
                    stack=True,
                )
            ),
        ],
    )
    return Board(
        uid=UID,
        title="RAG and caches",
        description=(
            "Retrieval hit rate, empty retrievals, scores, reranking, context size and cache efficiency."
        ),
        variables=(
            p.label_variable("service", RETRIEVALS, "service", "Service"),
            p.label_variable("cache", CACHE_REQUESTS, "cache", "Cache"),
        ),
        rows=(retrieval, rerank, caches),
    )
