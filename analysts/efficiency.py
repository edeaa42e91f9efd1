"""The efficiency analyst: processing time and token metrics turned into concrete optimisations."""

from __future__ import annotations

from alert_webhooks.analysis.sources import fmt
from analysts.base import Finding, Query, Specialist
from analysts.prometheus import Reading

QUERIES = (
    Query(
        "cache_hit_ratio",
        "cache hit ratio",
        'sum(rate(llm_sre_cache_requests_total{result="hit"}[1h]))'
        " / sum(rate(llm_sre_cache_requests_total[1h]))",
    ),
    Query(
        "input_tokens",
        "mean input tokens per call",
        'sum(rate(gen_ai_client_token_usage_sum{gen_ai_token_type="input"}[1h]))'
        ' / sum(rate(gen_ai_client_token_usage_count{gen_ai_token_type="input"}[1h]))',
        "tokens",
    ),
    Query(
        "output_tokens",
        "mean output tokens per call",
        'sum(rate(gen_ai_client_token_usage_sum{gen_ai_token_type="output"}[1h]))'
        ' / sum(rate(gen_ai_client_token_usage_count{gen_ai_token_type="output"}[1h]))',
        "tokens",
    ),
    Query(
        "tpot",
        "median time per output token",
        "histogram_quantile(0.5, sum by (le) (rate(gen_ai_server_time_per_output_token_seconds_bucket[1h])))",
        "s",
    ),
    Query("loaded_vram", "VRAM held by loaded models", "sum(llm_sre_ollama_model_vram_bytes)", "bytes"),
    Query(
        "llm_requests",
        "LLM requests per second",
        'sum(rate(llm_sre_ollama_requests_total{kind="llm"}[30m]))',
        "/s",
    ),
    Query(
        "embed_batch",
        "texts per embedding request",
        'sum(rate(llm_sre_ollama_request_items_total{kind="embedding"}[1h]))'
        ' / sum(rate(llm_sre_ollama_requests_total{kind="embedding"}[1h]))',
    ),
)


def advise(r: dict[str, Reading]) -> list[Finding]:
    out = []
    if (hit := r.get("cache_hit_ratio")) and hit.now < 0.3:
        out.append(
            Finding(
                f"{hit.text}: fewer than 3 in 10 lookups hit.",
                "runbook efficiency-cache: cache embeddings by text hash and answers by "
                "normalised question; check the TTL is not shorter than repeat intervals.",
            )
        )
    if (tokens := r.get("input_tokens")) and tokens.now > 2000:
        out.append(
            Finding(
                f"{tokens.text}: long prompts dominate processing time.",
                "runbook efficiency-tokens: retrieve fewer chunks (lower top-k), shorten the "
                "system prompt, or summarise history.",
            )
        )
    vram, reqs = r.get("loaded_vram"), r.get("llm_requests")
    if vram and vram.now > 0 and reqs is not None and reqs.now == 0:
        out.append(
            Finding(
                f"{vram.text} while {reqs.text}: the model sits idle in GPU memory.",
                "runbook efficiency-gpu: lower OLLAMA_KEEP_ALIVE so idle models unload.",
            )
        )
    if (batch := r.get("embed_batch")) and batch.now < 2:
        out.append(
            Finding(
                f"{batch.text}: embeddings are requested one text at a time.",
                "runbook efficiency-batching: send lists to /api/embed (one request per batch).",
            )
        )
    if (
        (tpot := r.get("tpot"))
        and tpot.now > 0.1
        and (out_tok := r.get("output_tokens"))
        and out_tok.now < 300
    ):
        out.append(
            Finding(
                f"{tpot.text} for short answers ({fmt(out_tok.now)} output tokens on average).",
                "runbook efficiency-model: a smaller or more quantised model would answer these "
                "faster; evaluate it on your eval set first.",
            )
        )
    return out


EFFICIENCY = Specialist(
    name="efficiency",
    title="efficiency analyst",
    keywords={
        r"\bcost|cheaper|spend|budget for tokens|save money|expensive|bill": 2.5,
        r"\btokens?\b|prompt (?:size|length)|context (?:size|length)|top.?k": 2.0,
        r"optimi[sz]|efficien|waste|idle|utili[sz]ation|throughput|batch": 2.5,
        r"\bcache|caching|hit (?:rate|ratio)|smaller model|quantiz|quantis|keep.?alive|vram|gpu memory": 2.0,
        r"speed up|faster|reduce|too much|overprovision": 1.0,
    },
    examples=(
        "how can we cut token costs?",
        "is the embedding cache doing anything?",
        "would a smaller model be good enough?",
        "why is GPU memory used when nobody is calling the model?",
        "are we batching embedding requests?",
        "how do we make generation cheaper?",
        "which optimisation would save the most processing time?",
        "our prompts are huge, what should we trim?",
    ),
    queries=QUERIES,
    advise=advise,
    runbooks=(
        "efficiency-cache",
        "efficiency-tokens",
        "efficiency-gpu",
        "efficiency-batching",
        "efficiency-model",
    ),
)
