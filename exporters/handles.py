"""Typed handles on the catalogue metrics :class:`~exporters.instrument.Instruments` writes.

Recording code names a metric by attribute (``handles.llm_calls``), resolved once per registry,
instead of looking it up by string at each call site: a typo is an ``AttributeError`` at import
and review time, not a ``KeyError`` on the first failed LLM call in production. The one string
per metric lives in :data:`_NAMES`, checked against the catalogue by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from prometheus_client.metrics import MetricWrapperBase

from exporters.catalogue import MetricSet


@dataclass(frozen=True)
class Handle:
    """One catalogue metric: its name (the OTLP mirror needs it) and its prometheus-client object."""

    name: str
    metric: MetricWrapperBase


@dataclass(frozen=True)
class RecorderHandles:
    genai_duration: Handle
    genai_ttfc: Handle
    genai_tpoc: Handle
    genai_tokens: Handle
    genai_server_duration: Handle
    genai_server_ttft: Handle
    genai_server_tpot: Handle
    llm_calls: Handle
    llm_tokens: Handle
    rag_retrievals: Handle
    rag_duration: Handle
    rag_documents: Handle
    rag_top_score: Handle
    rag_context_tokens: Handle
    rag_reranks: Handle
    rag_rerank_duration: Handle
    cache_requests: Handle
    cache_duration: Handle
    cache_entries: Handle
    cache_evictions: Handle
    eval_score: Handle

    @classmethod
    def create(cls, metrics: MetricSet) -> RecorderHandles:
        return cls(**{f.name: Handle(_NAMES[f.name], metrics[_NAMES[f.name]]) for f in fields(cls)})


_NAMES = {
    "genai_duration": "gen_ai_client_operation_duration_seconds",
    "genai_ttfc": "gen_ai_client_operation_time_to_first_chunk_seconds",
    "genai_tpoc": "gen_ai_client_operation_time_per_output_chunk_seconds",
    "genai_tokens": "gen_ai_client_token_usage",
    "genai_server_duration": "gen_ai_server_request_duration_seconds",
    "genai_server_ttft": "gen_ai_server_time_to_first_token_seconds",
    "genai_server_tpot": "gen_ai_server_time_per_output_token_seconds",
    "llm_calls": "llm_sre_llm_calls_total",
    "llm_tokens": "llm_sre_llm_tokens_total",
    "rag_retrievals": "llm_sre_rag_retrievals_total",
    "rag_duration": "llm_sre_rag_retrieval_duration_seconds",
    "rag_documents": "llm_sre_rag_documents",
    "rag_top_score": "llm_sre_rag_top_score",
    "rag_context_tokens": "llm_sre_rag_context_tokens",
    "rag_reranks": "llm_sre_rag_reranks_total",
    "rag_rerank_duration": "llm_sre_rag_rerank_duration_seconds",
    "cache_requests": "llm_sre_cache_requests_total",
    "cache_duration": "llm_sre_cache_lookup_duration_seconds",
    "cache_entries": "llm_sre_cache_entries",
    "cache_evictions": "llm_sre_cache_evictions_total",
    "eval_score": "llm_sre_eval_score",
}
