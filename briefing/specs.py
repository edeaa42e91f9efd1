"""The key series a briefing watches, what counts as bad for each, and which shipped alert each
one anticipates (so the backtest can tell whether a warning came before *its* alert).

Specs are data: adding a series is one entry, and the engine, the watch, the metric and the
backtest pick it up. Expressions use only catalogue metrics, SLO recordings and cAdvisor/vLLM names
(``tests/briefing`` lints them like the shipped rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

_MEMORY_NEAR_LIMIT = 0.9  # ContainerMemoryNearLimit's threshold (rules/alerts/infrastructure.yml)


@dataclass(frozen=True)
class TrendSpec:
    """A series compared with the same hours of the previous days."""

    name: str
    title: str
    expr: str
    subject: str  # a template over the result's labels, e.g. "{service}/{cache}"
    bad: str  # "up", "down" or "both": only that direction is reported
    unit: str = ""
    alerts: tuple[str, ...] = ()
    # Below this difference from the usual value nothing is reported, however tight the spread:
    # a flat series moving from 0.1% to 0.12% errors is not news.
    min_change: float = 0.0


@dataclass(frozen=True)
class ForecastSpec:
    """A series projected towards a limit; ``expr`` is already the quantity the limit applies to."""

    name: str
    title: str
    expr: str
    subject: str
    limit: float
    limit_text: str
    alerts: tuple[str, ...] = ()
    labels: tuple[str, ...] = field(default=())  # the labels that identify the subject
    # Non-zero: the limit applies to the series' mean over this trailing window (an SLO's 3-day burn
    # rate), projected from the recorded past of the window plus the fitted line for its future.
    window: float = 0.0


@dataclass(frozen=True)
class AdviceSpec:
    """An efficiency finding: an instant query over the period; every result is one piece of advice.

    ``{period}`` is the briefing period as a PromQL range; ``text`` is formatted with the result's
    labels and ``value``.
    """

    name: str
    expr: str
    subject: str
    text: str


_BURN = (
    "slo:sli_error:ratio_rate{window}"
    " / on (sloth_id, sloth_service, sloth_slo) group_left slo:error_budget:ratio"
)
_SLO_ALERTS = tuple(
    sorted({"LLMAvailabilityBudgetBurn", "LLMLatencyBudgetBurn", "RAGRetrievalBudgetBurn",
            "EmbeddingCacheBudgetBurn", "WebhookDeliveryBudgetBurn"})
)  # fmt: skip
_SLO_LABELS = ("sloth_id", "sloth_service", "sloth_slo")

TRENDS: tuple[TrendSpec, ...] = (
    TrendSpec(
        "llm_error_ratio", "LLM error ratio",
        'sum by (service) (rate(llm_sre_llm_calls_total{error_type!=""}[1h]))'
        " / sum by (service) (rate(llm_sre_llm_calls_total[1h]))",
        "{service}", "up", "ratio", ("LLMErrorBurst", "LLMAvailabilityBudgetBurn"), 0.002,
    ),
    TrendSpec(
        "llm_p95_latency", "LLM p95 latency",
        "histogram_quantile(0.95, sum by (service, le)"
        " (rate(gen_ai_client_operation_duration_seconds_bucket[1h])))",
        "{service}", "up", "seconds", ("LLMLatencyHigh", "LLMLatencyBudgetBurn"), 0.25,
    ),
    TrendSpec(
        "ttft_p95", "time to first token p95",
        "histogram_quantile(0.95, sum by (gen_ai_request_model, le) "
        "(rate(gen_ai_server_time_to_first_token_seconds_bucket[1h])))",
        "{gen_ai_request_model}", "up", "seconds", ("LLMTimeToFirstTokenHigh",), 0.1,
    ),
    TrendSpec(
        "output_tokens_per_second", "output tokens/s",
        'sum by (gen_ai_request_model) (rate(llm_sre_llm_tokens_total{gen_ai_token_type="output"}[1h]))',
        "{gen_ai_request_model}", "down", "tokens/s", (), 0.5,
    ),
    TrendSpec(
        "rag_hit_ratio", "RAG hit ratio",
        'sum by (service) (rate(llm_sre_rag_retrievals_total{outcome="hit"}[1h]))'
        " / sum by (service) (rate(llm_sre_rag_retrievals_total[1h]))",
        "{service}", "down", "ratio", ("RAGEmptyRetrievals", "RAGRetrievalBudgetBurn"), 0.02,
    ),
    TrendSpec(
        "cache_hit_ratio", "cache hit ratio",
        'sum by (service, cache) (rate(llm_sre_cache_requests_total{result="hit"}[1h]))'
        " / sum by (service, cache) (rate(llm_sre_cache_requests_total[1h]))",
        "{service}/{cache}", "down", "ratio", ("CacheHitRateCollapse", "EmbeddingCacheBudgetBurn"), 0.02,
    ),
    TrendSpec(
        "container_cpu", "container CPU (cores)",
        "sum by (name) (rate(llm_sre_container_cpu_usage_seconds_total[1h]))",
        "{name}", "up", "cores", ("ContainerCPUThrottled",), 0.05,
    ),
    TrendSpec(
        "container_memory", "container memory",
        "max by (name) (llm_sre_container_memory_working_set_bytes)",
        "{name}", "up", "bytes", ("ContainerMemoryNearLimit", "ContainerOOMKilled"), 50 * 2**20,
    ),
    TrendSpec(
        "container_restarts", "container restarts per hour",
        "sum by (name) (increase(llm_sre_container_restarts_total[1h]))",
        "{name}", "up", "restarts", ("ContainerRestarting", "ContainerOOMKilled"), 0.5,
    ),
    TrendSpec(
        "log_errors", "error log lines/s",
        'sum by (service) (rate(llm_sre_log_events_total{level=~"error|critical"}[1h]))',
        "{service}", "up", "lines/s", ("ErrorLogSurge", "AppErrorBurst"), 0.01,
    ),
)  # fmt: skip

FORECASTS: tuple[ForecastSpec, ...] = (
    ForecastSpec(
        "memory", "memory / limit",
        "max by (name) (llm_sre_container_memory_working_set_bytes)"
        " / max by (name) (llm_sre_container_spec_memory_limit_bytes > 0)",
        "{name}", _MEMORY_NEAR_LIMIT, "90% of the memory limit (ContainerMemoryNearLimit)",
        ("ContainerMemoryNearLimit", "ContainerOOMKilled"), ("name",),
    ),
    ForecastSpec(
        "disk", "filesystem usage / limit",
        "max by (name) (container_fs_usage_bytes) / max by (name) (container_fs_limit_bytes > 0)",
        "{name}", 0.9, "90% of the filesystem", (), ("name",),
    ),
    ForecastSpec(
        "kv_cache", "vLLM KV-cache usage",
        "max by (model_name) (vllm:gpu_cache_usage_perc)",
        "{model_name}", 0.95, "95% of the KV cache (requests start queueing)", (), ("model_name",),
    ),
    # A 3-day burn rate of 1 spends the whole 30-day budget by the period's end; it is also the slow
    # window of the ticket alert, so crossing it is when the ticket fires. The line is fitted to the
    # 6-hour burn rate (the 3-day one lags by a day and a half and bends where the trend started).
    ForecastSpec(
        "error_budget_3d", "error budget burn rate over 3d",
        _BURN.format(window="6h"), "{sloth_service}/{sloth_slo}", 1.0,
        "burn rate 1 over 3d (budget gone by the period's end; ticket alert)", _SLO_ALERTS, _SLO_LABELS,
        3 * 86400.0,
    ),
    ForecastSpec(
        "error_budget_1d", "error budget burn rate over 1d",
        _BURN.format(window="6h"), "{sloth_service}/{sloth_slo}", 3.0,
        "burn rate 3 over 1d (budget gone in 10 days; ticket alert)", _SLO_ALERTS, _SLO_LABELS,
        86400.0,
    ),
)  # fmt: skip

ADVICE: tuple[AdviceSpec, ...] = (
    AdviceSpec(
        "idle_model",
        "max by (model) (max_over_time(llm_sre_ollama_model_vram_bytes[{period}]))"
        " unless on (model) label_replace(sum by (gen_ai_request_model)"
        " (increase(llm_sre_llm_calls_total[{period}])) > 0,"
        ' "model", "$1", "gen_ai_request_model", "(.+)")',
        "{model}",
        "model {model} was kept loaded ({value} bytes of VRAM) with no LLM calls in the period; "
        "a shorter keep_alive frees the memory",
    ),
    AdviceSpec(
        "low_cache_hit_ratio",
        'sum by (service, cache) (increase(llm_sre_cache_requests_total{result="hit"}[{period}]))'
        " / sum by (service, cache) (increase(llm_sre_cache_requests_total[{period}])) < 0.5"
        " and sum by (service, cache) (increase(llm_sre_cache_requests_total[{period}])) >= 100",
        "{service}/{cache}",
        "cache {cache} of {service} hit only {value} of lookups in the period; check its size, TTL and key",
    ),
    AdviceSpec(
        "prompt_tokens_outgrowing_requests",
        "(sum by (gen_ai_request_model)"
        ' (increase(llm_sre_llm_tokens_total{gen_ai_token_type="input"}[{period}]))'
        " / sum by (gen_ai_request_model) (increase(llm_sre_llm_calls_total[{period}])))"
        " / (sum by (gen_ai_request_model)"
        ' (increase(llm_sre_llm_tokens_total{gen_ai_token_type="input"}[7d] offset {period}))'
        " / sum by (gen_ai_request_model) (increase(llm_sre_llm_calls_total[7d] offset {period}))) > 1.25",
        "{gen_ai_request_model}",
        "prompt tokens per request to {gen_ai_request_model} are {value} times the previous week's: "
        "prompts grow faster than requests (context or history not trimmed?)",
    ),
    AdviceSpec(
        "cpu_throttled",
        "sum by (name) (rate(llm_sre_container_cpu_cfs_throttled_seconds_total[{period}])) > 0.1",
        "{name}",
        "container {name} was CPU-throttled {value} seconds per second on average; raise its CPU quota "
        "or lower its worker count",
    ),
)  # fmt: skip
