"""The catalogue creates exactly the agreed names, with bounded, consistent label sets."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from exporters import metrics_doc
from exporters.catalogue import SPECS, is_known, metrics
from exporters.containers import ContainerExporter
from exporters.labels import BoundedLabel, error_type, normalise_model
from exporters.log_exporter import FileSource, LineSource, LokiSource
from exporters.ollama_server import OllamaPoller
from exporters.traces import TraceSource

# The agreed list, pasted as the team wrote it.
AGREED_TEXT = """
gen_ai_client_operation_duration_seconds gen_ai_client_token_usage
gen_ai_client_operation_time_to_first_chunk_seconds gen_ai_server_time_to_first_token_seconds
gen_ai_server_time_per_output_token_seconds gen_ai_server_request_duration_seconds
llm_sre_llm_calls_total llm_sre_llm_tokens_total llm_sre_rag_retrievals_total llm_sre_rag_documents
llm_sre_rag_top_score llm_sre_rag_retrieval_duration_seconds llm_sre_rag_reranks_total
llm_sre_rag_rerank_duration_seconds llm_sre_rag_context_tokens llm_sre_cache_requests_total
llm_sre_cache_lookup_duration_seconds llm_sre_cache_entries llm_sre_cache_evictions_total llm_sre_eval_score
llm_sre_ollama_up llm_sre_ollama_loaded_models llm_sre_ollama_model_vram_bytes
llm_sre_ollama_model_expiry_timestamp_seconds llm_sre_ollama_model_loads_total
llm_sre_ollama_model_unloads_total llm_sre_ollama_available_models llm_sre_container_up
llm_sre_container_restarts_total llm_sre_container_oom_kills_total llm_sre_container_last_exit_code
llm_sre_container_health_status llm_sre_container_cpu_usage_seconds_total
llm_sre_container_memory_working_set_bytes llm_sre_container_spec_memory_limit_bytes
llm_sre_container_cpu_cfs_throttled_seconds_total llm_sre_container_network_receive_bytes_total
llm_sre_container_network_transmit_bytes_total llm_sre_container_fs_reads_bytes_total
llm_sre_container_fs_writes_bytes_total llm_sre_container_log_errors_total llm_sre_trace_events_total
llm_sre_trace_malformed_lines_total llm_sre_log_events_total llm_sre_log_new_patterns_total
llm_sre_app_errors_total llm_sre_loki_records_dropped_total llm_sre_loki_records_sent_total
llm_sre_loki_push_failures_total llm_sre_webhook_notifications_total llm_sre_webhook_queue_depth
llm_sre_webhook_queue_oldest_age_seconds llm_sre_webhook_deliveries_total
llm_sre_webhook_delivery_retries_total llm_sre_webhook_dead_letters
llm_sre_webhook_processing_duration_seconds llm_sre_webhook_incidents_total
llm_sre_analyst_llm_duration_seconds llm_sre_analyst_fallbacks_total llm_sre_analyst_grounded_ratio
llm_sre_analyst_dropped_sentences_total llm_sre_analyst_results_total
"""
AGREED = AGREED_TEXT.split()


def test_every_agreed_name_is_in_the_catalogue():
    assert set(AGREED) <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_is_conventional(name):
    spec = SPECS[name]
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name)
    assert name.endswith("_total") == (spec.kind == "counter")
    assert (spec.buckets is not None) == (spec.kind == "histogram")
    assert set(spec.values) <= set(spec.labels)
    if spec.unit in ("seconds", "bytes"):
        assert spec.unit in name


def test_every_spec_exposes_exactly_its_name():
    registry = CollectorRegistry()
    m = metrics(registry)
    for name, spec in SPECS.items():
        metric = m[name]
        if spec.labels:
            metric = metric.labels(*["x"] * len(spec.labels))
        getattr(metric, {"counter": "inc", "gauge": "set", "histogram": "observe"}[spec.kind])(1)
    text = generate_latest(registry).decode()
    exposed = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert all(is_known(n) for n in exposed)
    for name, spec in SPECS.items():
        assert (name + "_count" if spec.kind == "histogram" else name) in exposed
    assert metrics(registry) is m and m[name] is m[name]


def test_is_known_rejects_unknown_names():
    assert not is_known("llm_sre_made_up_total")
    assert is_known("container_memory_working_set_bytes") and is_known("vllm:num_requests_running")


def test_model_names_are_normalised():
    assert normalise_model("registry.ollama.ai/library/Qwen2.5:latest") == "qwen2.5"
    assert normalise_model("qwen2.5:7b") == "qwen2.5:7b"
    assert normalise_model("/models/Qwen2.5-7B-Instruct.Q4_K_M.gguf") == "qwen2.5-7b-instruct.q4_k_m"
    assert normalise_model("Qwen/Qwen2.5-7B-Instruct") == "qwen/qwen2.5-7b-instruct"
    assert normalise_model("") == "unknown"
    assert len(normalise_model("x" * 500)) == 64


def test_bounded_label_overflows_after_limit():
    label = BoundedLabel(["a"], limit=2)
    assert [label(v) for v in ["a", "b", "c", "d", "b", None]] == ["a", "b", "c", "_OTHER", "b", "_OTHER"]


def test_error_type_never_carries_a_message():
    assert error_type(None) == ""
    assert error_type(TimeoutError("boom")) == "TimeoutError"
    assert error_type(429) == "429"
    assert error_type("connection refused by host 10.0.0.1") == "_OTHER"


def test_every_sidecar_source_name_is_an_allowed_collect_errors_source():
    """Sidecar labels its failures with ``source.name``; a name the catalogue does not list would
    be a series the dashboards and docs do not know."""
    allowed = SPECS["llm_sre_exporter_collect_errors_total"].values["source"]
    sources = (ContainerExporter, OllamaPoller, TraceSource, FileSource, LineSource, LokiSource)
    assert {source.name for source in sources} == set(allowed)


def test_docs_metrics_md_is_up_to_date():
    assert {spec.group for spec in SPECS.values()} <= set(metrics_doc.GROUPS)
    rendered = metrics_doc.render()
    assert all(f"`{name}`" in rendered for name in SPECS)
    assert metrics_doc.DOC_PATH.read_text() == rendered, "stale: run `llm-sre metrics-doc`"


def test_recorder_handles_name_catalogue_metrics_of_the_right_kind():
    from exporters.handles import _NAMES, RecorderHandles

    handles = RecorderHandles.create(metrics(CollectorRegistry()))
    for field, name in _NAMES.items():
        handle = getattr(handles, field)
        assert handle.name == name and name in SPECS
        assert type(handle.metric).__name__.lower() == SPECS[name].kind
