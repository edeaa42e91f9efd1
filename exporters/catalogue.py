"""Every metric llm-sre exports: the single source of truth for names, types, units, labels and buckets.

Instrumentation, sidecar exporters, the webhook service, rules and dashboards all take their metric
names from here, so a rename is one edit and a test can check that every name a rule or a panel
uses exists. Components never call ``Counter(...)`` themselves::

    from exporters.catalogue import metrics
    m = metrics(registry)                       # one lazily filled set per registry
    m["llm_sre_cache_requests_total"].labels(cache="embedding", result="hit").inc()

Custom collectors (snapshots read from Docker or Ollama at scrape time) build families instead::

    family = SPECS["llm_sre_container_up"].family()
    family.add_metric(["api", "api"], 1.0)

Label values that come from the outside world go through :mod:`exporters.labels` first.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics import MetricWrapperBase

Kind = Literal["counter", "gauge", "histogram"]


def _doubling(start: float, count: int) -> tuple[float, ...]:
    return tuple(round(start * 2**i, 6) for i in range(count))


# OpenTelemetry GenAI recommended buckets: semantic-conventions v1.41.0,
# docs/gen-ai/gen-ai-metrics.md; docs/exporters.md "GenAI conventions" restates them and
# tests/exporters/test_genai_conventions.py checks every GenAI instrument against that document.
DURATION_BUCKETS = _doubling(0.01, 14)  # 0.01 … 81.92 s
TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))  # 1 … 67108864
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
# Our own families: chosen so the interesting range (a fast vector search, a slow rerank) has
# several buckets; scores are normalised to 0..1 by the caller.
# The stable HTTP conventions' http.server.request.duration boundaries (semantic-conventions v1.41.0,
# docs/http/http-metrics.md); opentelemetry-instrumentation-fastapi applies them itself.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
RETRIEVAL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CACHE_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
DOCUMENT_BUCKETS = (0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0, 100.0)
CONTEXT_TOKEN_BUCKETS = _doubling(64, 12)  # 64 … 131072
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))  # 0.1 … 1.0
WEBHOOK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
ANALYST_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

# Label sets shared by several metrics. GENAI_COMMON is the attribute set every GenAI instrument of
# semantic-conventions v1.41.0 shares (gen_ai.operation.name, gen_ai.provider.name,
# gen_ai.request.model, gen_ai.response.model, server.address, server.port); only the two
# duration histograms add error.type. An attribute the caller does not know is exported as "".
GENAI_COMMON = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model",
                "gen_ai_response_model", "server_address", "server_port")
GENAI_DURATION = (*GENAI_COMMON, "error_type")
# Our own call counter keeps the short set: it is what the SLO rules and panels aggregate by.
GENAI = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type")
CONTAINER = ("name", "compose_service")
OVERFLOW = "_OTHER"


@dataclass(frozen=True)
class MetricSpec:
    """One exported metric. ``name`` is the exposed name (counters include ``_total``).

    ``values`` lists the allowed values of enumerated labels; labels absent from it are bounded
    by :mod:`exporters.labels` (allowlist plus ``_OTHER``) at the recording site.
    """

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    buckets: tuple[float, ...] | None = None
    group: str = ""
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How prometheus-client merges gauges from several worker processes (multiprocess mode).
    multiprocess_mode: str = "livesum"

    @property
    def base_name(self) -> str:
        """The name prometheus-client wants: counters without their ``_total`` suffix."""
        return self.name.removesuffix("_total") if self.kind == "counter" else self.name

    @property
    def _client_unit(self) -> str:
        # prometheus-client appends the unit to the name unless it already ends with it; we only
        # pass units our names already carry so the exposed name is exactly ``name``.
        return self.unit if self.unit and self.base_name.endswith("_" + self.unit) else ""

    def create(self, registry: CollectorRegistry | None) -> MetricWrapperBase:
        """Create the prometheus-client object for this spec in ``registry``."""
        common = {"labelnames": self.labels, "registry": registry, "unit": self._client_unit}
        if self.kind == "counter":
            return Counter(self.base_name, self.help, **common)
        if self.kind == "gauge":
            return Gauge(self.base_name, self.help, multiprocess_mode=self.multiprocess_mode, **common)
        return Histogram(self.base_name, self.help, buckets=self.buckets or DURATION_BUCKETS, **common)

    def family(self, extra_help: str = "") -> CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily:
        """An empty metric family for custom collectors that build samples at scrape time."""
        cls = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily, "histogram": HistogramMetricFamily}
        return cls[self.kind](self.base_name, self.help + extra_help, labels=self.labels,
                              unit=self._client_unit)


def _c(name: str, help: str, labels: tuple[str, ...] = (), **kw: object) -> MetricSpec:
    return MetricSpec(name, "counter", help, labels, **kw)  # type: ignore[arg-type]


def _g(name: str, help: str, labels: tuple[str, ...] = (), **kw: object) -> MetricSpec:
    return MetricSpec(name, "gauge", help, labels, **kw)  # type: ignore[arg-type]


def _h(name: str, help: str, labels: tuple[str, ...], buckets: tuple[float, ...], **kw: object) -> MetricSpec:
    return MetricSpec(name, "histogram", help, labels, buckets=buckets, **kw)  # type: ignore[arg-type]


_TOKEN_TYPE = {"gen_ai_token_type": ("input", "output")}
# The Loki pipeline's failure causes (exporters/failures.py) and stdlib level names.
_LOKI_CAUSE = {"cause": ("network", "timeout", "rate_limited", "server_error", "line_too_long",
                         "batch_too_large", "too_old", "out_of_order", "invalid_labels", "rejected",
                         "local_bug")}
_LEVEL = {"level": ("debug", "info", "warning", "error", "critical")}

_SPECS: tuple[MetricSpec, ...] = (
    # --- OpenTelemetry GenAI client and server metrics -------------------------------------------
    _h("gen_ai_client_operation_duration_seconds", "Duration of GenAI client operations; error_type is "
       "empty on success.", GENAI_DURATION, DURATION_BUCKETS, unit="seconds", group="genai"),
    _h("gen_ai_client_token_usage", "Tokens used per GenAI operation, by token type.",
       (*GENAI_COMMON, "gen_ai_token_type"), TOKEN_BUCKETS, unit="tokens", group="genai", values=_TOKEN_TYPE),
    _h("gen_ai_client_operation_time_to_first_chunk_seconds", "Time from request to the first streamed "
       "chunk carrying generated content, seen by the client.", GENAI_COMMON, DURATION_BUCKETS,
       unit="seconds", group="genai"),
    _h("gen_ai_client_operation_time_per_output_chunk_seconds", "Time between consecutive streamed chunks "
       "after the first, seen by the client (one observation per chunk).", GENAI_COMMON, DURATION_BUCKETS,
       unit="seconds", group="genai"),
    _h("gen_ai_server_time_to_first_token_seconds", "Server-side time to first token of successful "
       "responses (Ollama: load + prompt evaluation).", GENAI_COMMON, TTFT_BUCKETS, unit="seconds",
       group="genai"),
    _h("gen_ai_server_time_per_output_token_seconds", "Server-side time per output token after the first, "
       "for successful responses: (request duration - time to first token) / (output tokens - 1).",
       GENAI_COMMON, TPOT_BUCKETS, unit="seconds", group="genai"),
    _h("gen_ai_server_request_duration_seconds", "Server-side request duration (Ollama total_duration); "
       "error_type is empty on success.", GENAI_DURATION, DURATION_BUCKETS, unit="seconds", group="genai"),
    # --- HTTP server: created by opentelemetry-instrumentation-fastapi (exporters.http_server), listed
    # here so rules and panels may use the names; never create them through metrics() as well.
    _h("http_server_request_duration_seconds", "Duration of HTTP server requests; http_route is the route "
       "template, absent when no route matched; error_type is set on 5xx.",
       ("http_request_method", "http_route", "http_response_status_code", "url_scheme",
        "network_protocol_version", "error_type"), HTTP_BUCKETS, unit="seconds", group="http"),
    _g("http_server_active_requests", "HTTP server requests in flight.",
       ("http_request_method", "url_scheme"), group="http"),
    # --- LLM calls ---------------------------------------------------------------------------------
    _c("llm_sre_llm_calls_total", "LLM calls; error_type is empty on success.",
       ("gen_ai_provider_name", "gen_ai_request_model", "gen_ai_operation_name", "error_type"), group="llm"),
    _c("llm_sre_llm_tokens_total", "Tokens consumed by LLM calls.",
       ("gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type"), group="llm",
       values=_TOKEN_TYPE),
    # --- RAG ---------------------------------------------------------------------------------------
    _c("llm_sre_rag_retrievals_total", "Retrievals by outcome (empty = no document came back).",
       ("service", "outcome"), group="rag", values={"outcome": ("hit", "empty", "error")}),
    _h("llm_sre_rag_documents", "Documents returned per retrieval.", ("service",), DOCUMENT_BUCKETS,
       group="rag"),
    _h("llm_sre_rag_top_score", "Best similarity score per retrieval, normalised to 0..1.", ("service",),
       SCORE_BUCKETS, group="rag"),
    _h("llm_sre_rag_retrieval_duration_seconds", "Retrieval latency.", ("service",), RETRIEVAL_BUCKETS,
       unit="seconds", group="rag"),
    _c("llm_sre_rag_reranks_total", "Rerank decisions: applied, skipped (disabled or too few documents) "
       "or fallback (reranker failed, original order kept).", ("service", "outcome"), group="rag",
       values={"outcome": ("applied", "skipped", "fallback")}),
    _h("llm_sre_rag_rerank_duration_seconds", "Rerank latency.", ("service", "rerank_model"),
       RETRIEVAL_BUCKETS, unit="seconds", group="rag"),
    _h("llm_sre_rag_context_tokens", "Tokens of retrieved context put into the prompt.", ("service",),
       CONTEXT_TOKEN_BUCKETS, unit="tokens", group="rag"),
    # --- caches --------------------------------------------------------------------------------------
    _c("llm_sre_cache_requests_total", "Cache lookups by result.", ("cache", "result"), group="cache",
       values={"result": ("hit", "miss")}),
    _h("llm_sre_cache_lookup_duration_seconds", "Cache lookup latency.", ("cache",), CACHE_BUCKETS,
       unit="seconds", group="cache"),
    _g("llm_sre_cache_entries", "Entries currently in the cache.", ("cache",), group="cache"),
    _c("llm_sre_cache_evictions_total", "Entries evicted from the cache.", ("cache",), group="cache"),
    # --- evaluation ----------------------------------------------------------------------------------
    _h("llm_sre_eval_score", "Evaluation / grounding scores in 0..1.", ("metric",), SCORE_BUCKETS,
       group="eval"),
    # --- Ollama server (poller) -------------------------------------------------------------------
    _g("llm_sre_ollama_up", "1 if the Ollama API answered the last poll.", group="ollama",
       multiprocess_mode="max"),
    _g("llm_sre_ollama_loaded_models", "Models loaded in memory (/api/ps).", group="ollama"),
    _g("llm_sre_ollama_model_vram_bytes", "VRAM used by a loaded model.", ("model",), unit="bytes",
       group="ollama"),
    _g("llm_sre_ollama_model_expiry_timestamp_seconds", "When Ollama will unload the model (Unix time).",
       ("model",), unit="seconds", group="ollama"),
    _c("llm_sre_ollama_model_loads_total", "Times a model appeared in /api/ps between polls.", ("model",),
       group="ollama"),
    _c("llm_sre_ollama_model_unloads_total", "Times a model disappeared from /api/ps between polls.",
       ("model",), group="ollama"),
    _g("llm_sre_ollama_available_models", "Models pulled on the server (/api/tags).", group="ollama"),
    _c("llm_sre_ollama_requests_total", "Ollama requests reported in trace files (ollama.usage), by kind.",
       ("kind", "gen_ai_request_model"), group="ollama", values={"kind": ("llm", "embedding")}),
    _c("llm_sre_ollama_request_items_total", "Items (prompts or texts embedded) in those requests.",
       ("kind", "gen_ai_request_model"), group="ollama", values={"kind": ("llm", "embedding")}),
    _h("llm_sre_ollama_request_duration_seconds", "Latency of ollama.usage requests from trace files.",
       ("kind",), DURATION_BUCKETS, unit="seconds", group="ollama", values={"kind": ("llm", "embedding")}),
    # --- containers (docker API, beside cAdvisor) ---------------------------------------------------
    _g("llm_sre_container_up", "1 if the container is running.", CONTAINER, group="containers"),
    _c("llm_sre_container_restarts_total", "Restarts Docker reports for the container.", CONTAINER,
       group="containers"),
    _c("llm_sre_container_oom_kills_total", "OOM kills: cgroup memory.events oom_kill, or 1 when Docker "
       "says the last exit was an OOM kill.", CONTAINER, group="containers"),
    _g("llm_sre_container_last_exit_code", "Exit code of the container's last run.", CONTAINER,
       group="containers"),
    _g("llm_sre_container_health_status", "1 for the container's current health status.",
       (*CONTAINER, "status"), group="containers",
       values={"status": ("healthy", "unhealthy", "starting", "none")}),
    _c("llm_sre_container_cpu_usage_seconds_total", "CPU time consumed.", CONTAINER, unit="seconds",
       group="containers"),
    _g("llm_sre_container_memory_working_set_bytes", "Memory usage minus inactive file cache (as cAdvisor).",
       CONTAINER, unit="bytes", group="containers"),
    _g("llm_sre_container_spec_memory_limit_bytes", "Memory limit; 0 when unlimited.", CONTAINER,
       unit="bytes", group="containers"),
    _c("llm_sre_container_cpu_cfs_throttled_seconds_total", "Time the container was CPU-throttled.",
       CONTAINER, unit="seconds", group="containers"),
    _c("llm_sre_container_network_receive_bytes_total", "Bytes received.", CONTAINER, unit="bytes",
       group="containers"),
    _c("llm_sre_container_network_transmit_bytes_total", "Bytes transmitted.", CONTAINER, unit="bytes",
       group="containers"),
    _c("llm_sre_container_fs_reads_bytes_total", "Bytes read from block devices.", CONTAINER, unit="bytes",
       group="containers"),
    _c("llm_sre_container_fs_writes_bytes_total", "Bytes written to block devices.", CONTAINER,
       unit="bytes", group="containers"),
    _c("llm_sre_container_log_errors_total", "Container log lines matching an error pattern.",
       (*CONTAINER, "pattern"), group="containers"),
    # --- trace tailer ------------------------------------------------------------------------------
    _c("llm_sre_trace_events_total", "Trace events read from JSONL files.", ("event",), group="traces",
       values={"event": ("llm.call", "rag.retrieve", "ollama.usage", "embed.cache", OVERFLOW)}),
    _c("llm_sre_trace_malformed_lines_total", "Trace lines that could not be used.", ("reason",),
       group="traces", values={"reason": ("invalid_json", "not_object", "bad_field")}),
    # --- exporter health -----------------------------------------------------------------------------
    # `source` is a Sidecar source's name: the exporter's three, and the log exporter's files/stdin
    # ("logs") and Loki poller ("loki").
    _c("llm_sre_exporter_collect_errors_total",
       "Failures reading a source (Docker, Ollama, trace files, log files, Loki).", ("source",),
       group="exporter", values={"source": ("docker", "ollama", "traces", "logs", "loki")}),
    # --- logs ----------------------------------------------------------------------------------------
    _c("llm_sre_log_events_total", "Log events by level and mined pattern.", ("service", "level", "pattern"),
       group="logs"),
    _c("llm_sre_log_new_patterns_total", "Log patterns seen for the first time.", ("service", "level"),
       group="logs"),
    _c("llm_sre_app_errors_total", "Application errors by route and error code.",
       ("service", "route", "error_code"), group="logs"),
    # The pattern miner's own counts (exporters/miner_metrics.py), read at scrape time.
    _c("llm_sre_log_miner_lines_total", "Log messages the pattern miner has mined.", group="logs"),
    _g("llm_sre_log_miner_templates", "Templates the pattern miner holds (bounded; least recently seen "
       "evicted past the cap).", group="logs"),
    _c("llm_sre_log_miner_evictions_total", "Templates evicted by the pattern miner's cap.", group="logs"),
    _c("llm_sre_log_miner_malformed_lines_total", "Malformed log messages the miner repaired and mined "
       "(bytes: undecoded, truncated: over 4,096 characters, invalid_utf8, control: binary, empty).",
       ("reason",), group="logs",
       values={"reason": ("bytes", "truncated", "invalid_utf8", "control", "empty")}),
    # Loki pipeline (docs/logs.md §2): `level` is one of the five stdlib level names.
    _c("llm_sre_loki_records_dropped_total", "Log records dropped before reaching Loki.", ("reason", "level"),
       group="logs", values={"reason": ("memory_full", "disk_budget", "disk_hard_limit", "disk_free_floor",
                                        "spill_error", "shutdown"), **_LEVEL}),
    _c("llm_sre_loki_records_sent_total", "Log records pushed to Loki.", group="logs"),
    _c("llm_sre_loki_push_failures_total", "Failed Loki push requests by cause.", ("cause",), group="logs",
       values=_LOKI_CAUSE),
    _c("llm_sre_loki_records_spilled_total", "Log records written to the local spill segments.",
       group="logs"),
    _g("llm_sre_loki_spill_bytes", "Bytes of unsent records in this process's spill segments.", unit="bytes",
       group="logs"),
    _c("llm_sre_loki_dead_letters_total", "Log records parked as dead letters, by failure cause.", ("cause",),
       group="logs", values=_LOKI_CAUSE),
    _c("llm_sre_loki_records_sampled_out_total", "Normal log records left out by dynamic sampling.",
       ("level",), group="logs", values=_LEVEL),
    _g("llm_sre_loki_sample_rate", "Current dynamic sample rate of normal log records (1 = all kept).",
       group="logs", multiprocess_mode="min"),
    _c("llm_sre_loki_policy_updates_total", "Sampling policy updates by source and result.",
       ("source", "result"), group="logs",
       values={"source": ("file", "redis"), "result": ("applied", "rejected")}),
    # --- webhook service -------------------------------------------------------------------------------
    _c("llm_sre_webhook_notifications_total", "Alertmanager notifications received.", ("outcome",),
       group="webhook", values={"outcome": ("accepted", "duplicate", "rejected")}),
    _g("llm_sre_webhook_queue_depth", "Notifications waiting for the worker.", group="webhook",
       multiprocess_mode="max"),
    _g("llm_sre_webhook_queue_oldest_age_seconds", "Age of the oldest waiting notification.",
       unit="seconds", group="webhook", multiprocess_mode="max"),
    _c("llm_sre_webhook_deliveries_total", "Delivery attempts by sink and outcome.", ("sink", "outcome"),
       group="webhook", values={"sink": ("slack", "grafana", "outbox"),
                                "outcome": ("success", "retry", "dead_letter")}),
    _c("llm_sre_webhook_delivery_retries_total", "Delivery retries by sink.", ("sink",), group="webhook",
       values={"sink": ("slack", "grafana", "outbox")}),
    _g("llm_sre_webhook_dead_letters", "Deliveries currently in the dead-letter store.", group="webhook",
       multiprocess_mode="max"),
    _h("llm_sre_webhook_processing_duration_seconds", "Time from intake to delivered incident.", (),
       WEBHOOK_BUCKETS, unit="seconds", group="webhook"),
    _c("llm_sre_webhook_incidents_total", "Incidents opened by severity.", ("severity",), group="webhook"),
    _c("llm_sre_webhook_dead_lettered_total", "Incidents moved to the dead-letter queue, by cause.",
       ("cause",), group="webhook",
       values={"cause": ("network", "rate_limited", "server_error", "rejected", "local_bug")}),
    # --- analyst -------------------------------------------------------------------------------------
    _h("llm_sre_analyst_llm_duration_seconds", "Analyst LLM call latency.", ("backend",), ANALYST_BUCKETS,
       unit="seconds", group="analyst"),
    _c("llm_sre_analyst_fallbacks_total", "Analyses that fell back to the deterministic summary.",
       ("reason",), group="analyst",
       values={"reason": ("timeout", "error", "malformed", "echo", "ungrounded", "refused", "disabled",
                          "prompt_too_large")}),
    _h("llm_sre_analyst_grounded_ratio", "Share of LLM summary sentences grounded in evidence.", (),
       SCORE_BUCKETS, group="analyst"),
    _c("llm_sre_analyst_dropped_sentences_total", "Ungrounded sentences dropped from LLM summaries.",
       group="analyst"),
    _c("llm_sre_analyst_results_total", "Analyses completed by backend.", ("backend",), group="analyst"),
    _c("llm_sre_analyst_refinements_skipped_total",
       "LLM refinements never attempted; the deterministic summary stands.", ("reason",), group="analyst",
       values={"reason": ("backlog", "shutdown", "disabled", "budget_exhausted", "prompt_too_large")}),
    _g("llm_sre_analyst_refinement_backlog", "LLM refinements waiting for a model slot.", group="analyst",
       multiprocess_mode="max"),
    # --- analyst budget and trust metrics (issue 17) -------------------------------------------------
    _c("llm_sre_analyst_budget_spent_total", "LLM budget spent by refinements (tokens, model-seconds).",
       ("resource",), group="analyst", values={"resource": ("tokens", "model_seconds")}),
    _g("llm_sre_analyst_budget_remaining", "LLM budget left in the sliding hour, reservations deducted "
       "(only resources with a limit).", ("resource",), group="analyst",
       values={"resource": ("tokens", "model_seconds")}, multiprocess_mode="min"),
    _c("llm_sre_analyst_llm_tokens_total", "Tokens (estimated from characters) the analyst's answers used.",
       ("gen_ai_token_type",), group="analyst", values=_TOKEN_TYPE),
    _h("llm_sre_analyst_summary_tokens", "Tokens (in + out, estimated) per judged LLM summary.", ("outcome",),
       CONTEXT_TOKEN_BUCKETS, group="analyst", values={"outcome": ("accepted", "rejected")}),
    _h("llm_sre_analyst_answer_duration_seconds", "LLM answer latency by whether the answer was accepted.",
       ("outcome",), ANALYST_BUCKETS, unit="seconds", group="analyst",
       values={"outcome": ("accepted", "rejected")}),
    _c("llm_sre_analyst_feedback_total", "On-call feedback on incident summaries (Slack buttons), by who "
       "wrote the summary and its category; helpful / all is the helpfulness ratio.",
       ("analyst", "category", "choice"), group="analyst",
       values={"analyst": ("deterministic", "ollama", "openai"),
               "choice": ("helpful", "unhelpful", "wrong_cause")}),
    _c("llm_sre_analyst_fabricated_citations_total",
       "LLM claims citing evidence ids that do not exist (caught by the grounding check).", group="analyst"),
    # --- shadow mode: primary vs shadow model configuration on the same live incidents (issue 17) -----
    _c("llm_sre_analyst_compared_refinements_total", "Refinements judged, by model configuration "
       "(primary delivers, shadow is only recorded) and whether the answer was accepted.",
       ("config", "outcome"), group="analyst",
       values={"config": ("primary", "shadow"), "outcome": ("accepted", "rejected")}),
    _h("llm_sre_analyst_compared_grounded_ratio", "Grounded share of each configuration's answers "
       "(accepted or refused).", ("config",), SCORE_BUCKETS, group="analyst",
       values={"config": ("primary", "shadow")}),
    _h("llm_sre_analyst_compared_duration_seconds", "Refinement latency by model configuration.", ("config",),
       ANALYST_BUCKETS, unit="seconds", group="analyst", values={"config": ("primary", "shadow")}),
    _c("llm_sre_analyst_compared_tokens_total", "Tokens (in + out, estimated) by model configuration.",
       ("config",), group="analyst", values={"config": ("primary", "shadow")}),
    # --- briefings (daily digest, early warnings, reports to Redis) ----------------------------------
    _c("llm_sre_briefings_total", "Briefings made, by who wrote the summary.", ("prose",), group="briefing",
       values={"prose": ("llm", "deterministic")}),
    _c("llm_sre_briefing_llm_tokens_total", "Tokens (estimated from characters) the briefing summaries used.",
       ("gen_ai_token_type",), group="briefing", values=_TOKEN_TYPE),
    _h("llm_sre_briefing_llm_duration_seconds", "Time the model took to write a briefing summary.", (),
       ANALYST_BUCKETS, unit="seconds", group="briefing"),
    _c("llm_sre_briefing_sections_missing_total", "Briefing sections that could not be gathered.",
       ("section",), group="briefing",
       values={"section": ("top_issues", "trends", "early_warnings", "efficiency")}),
    _g("llm_sre_forecast_seconds_to_limit", "Projected seconds until a series reaches its limit (only series "
       "projected to within the horizon).", ("subject", "metric"), unit="seconds", group="briefing",
       multiprocess_mode="min"),
    _c("llm_sre_reports_published_total", "Reports published to a Redis channel.", ("channel",),
       group="briefing", values={"channel": ("reports", "alerts")}),
    _c("llm_sre_reports_dropped_total", "Reports dropped because Redis stayed unreachable and the backlog "
       "was full.", ("channel",), group="briefing", values={"channel": ("reports", "alerts")}),
    # --- incident clustering, credential stuffing, specialist analysts (issue 16) -------------------
    _c("llm_sre_log_clusters_total", "Incident clusters of error/warning events first seen live.",
       ("severity",), group="logs", values={"severity": ("critical", "warning", "info")}),
    _c("llm_sre_log_clustered_events_total", "Events live clustering placed in a cluster or left as noise.",
       ("outcome",), group="logs", values={"outcome": ("clustered", "noise")}),
    _c("llm_sre_embedding_fallbacks_total", "Embedding batches served by the local vectoriser instead of the "
       "configured server.", ("reason",), group="logs",
       values={"reason": ("timeout", "unavailable", "bad_response")}),
    _c("llm_sre_auth_events_total", "Auth events read from logs (app JSON, access logs, sshd).",
       ("service", "outcome", "kind"), group="logs",
       values={"outcome": ("success", "failure"), "kind": ("login", "reset")}),
    _c("llm_sre_credential_stuffing_detections_total", "Credential-stuffing detections by shape.",
       ("service", "shape"),
       group="logs", values={"shape": ("single_source", "distributed", "low_and_slow", "compromise")}),
    _g("llm_sre_auth_failed_accounts", "Distinct accounts with failed logins in the last one to two "
       "windows (HyperLogLog estimate).", group="logs", multiprocess_mode="max"),
    _g("llm_sre_auth_failing_sources", "Distinct sources with failed logins in the last one to two windows "
       "(HyperLogLog estimate).", group="logs", multiprocess_mode="max"),
    _c("llm_sre_ask_total", "Questions and alerts routed to a specialist analyst, by how routing decided.",
       ("analyst", "method"), group="analyst",
       values={"analyst": ("sre", "security", "efficiency"), "method": ("rules", "embedding", "model")}),
    _c("llm_sre_log_secrets_total", "Secrets the masker replaced in log lines, by kind (never the value).",
       ("service", "kind"), group="logs"),
    # --- operations: checklists and commit rules (docs/operations.md) ------------------------------
    _g("llm_sre_check_status", "Last result of a checklist check: 0 PASS, 1 WARN, 2 FAIL.",
       ("checklist", "check"), group="operations", multiprocess_mode="max",
       values={"checklist": ("daily", "weekly", "deploy")}),
    _g("llm_sre_checklist_last_run_timestamp_seconds", "When the checklist last ran (Unix time).",
       ("checklist",), unit="seconds", group="operations", multiprocess_mode="max",
       values={"checklist": ("daily", "weekly", "deploy")}),
    _c("llm_sre_governance_violations_total", "Commit messages or branch names that broke a rule of "
       "the governance rules file.", ("rule",), group="operations"),
)

SPECS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}

# Names other components may rely on that come from elsewhere (not exported by llm-sre).
EXTERNAL_PREFIXES: tuple[str, ...] = ("container_", "vllm:", "llamacpp:")
EXTERNAL_NAMES: tuple[str, ...] = ("up", "ALERTS", "ALERTS_FOR_STATE")


def exposed_names(spec: MetricSpec) -> tuple[str, ...]:
    """Every series name a spec produces in the exposition (histogram suffixes, ``_created``)."""
    if spec.kind == "histogram":
        return tuple(spec.name + s for s in ("_bucket", "_sum", "_count", "_created"))
    if spec.kind == "counter":
        return (spec.name, spec.base_name + "_created")
    return (spec.name,)


def is_known(name: str) -> bool:
    """True if a series name comes from the catalogue or a documented external source."""
    if name in EXTERNAL_NAMES or name.startswith(EXTERNAL_PREFIXES):
        return True
    return any(name in exposed_names(spec) for spec in _SPECS)


class MetricSet(Mapping[str, MetricWrapperBase]):
    """The catalogue's metrics in one registry, created on first use so each exists once."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self._registry = registry
        self._created: dict[str, MetricWrapperBase] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> MetricWrapperBase:
        with self._lock:
            if name not in self._created:
                self._created[name] = SPECS[name].create(self._registry)
            return self._created[name]

    def __iter__(self) -> Iterator[str]:
        return iter(SPECS)

    def __len__(self) -> int:
        return len(SPECS)


_SETS: weakref.WeakKeyDictionary[CollectorRegistry, MetricSet] = weakref.WeakKeyDictionary()
_SETS_LOCK = threading.Lock()


def metrics(registry: CollectorRegistry | None = None) -> MetricSet:
    """The metric set bound to ``registry`` (default: prometheus-client's global ``REGISTRY``)."""
    registry = REGISTRY if registry is None else registry
    with _SETS_LOCK:
        if registry not in _SETS:
            _SETS[registry] = MetricSet(registry)
        return _SETS[registry]
