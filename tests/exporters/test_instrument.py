"""Instruments record the agreed series for LLM calls, retrievals, reranks and cache lookups."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics

from exporters.instrument import Instruments
from tests.exporters.samples import sample_sum


class FakeClock:
    """A clock the test advances by hand, so durations are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def inst(registry, clock):
    return Instruments(registry, clock=clock)


LLM = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "ollama",
       "gen_ai_request_model": "qwen2.5:7b"}


def value(registry, name, **labels):
    return sample_sum(registry, name, **labels)


def test_llm_call_success_records_duration_tokens_and_ttft(inst, registry, clock):
    with inst.llm_call(provider="ollama", model="qwen2.5:7b", operation="chat") as call:
        clock.now += 0.25
        call.first_token()
        clock.now += 0.5
        call.first_token()  # ignored: only the first token counts
        call.tokens(input=12, output=30)
        clock.now += 1.0
    ok = {**LLM, "error_type": ""}
    assert value(registry, "gen_ai_client_operation_duration_seconds_sum", **ok) == pytest.approx(1.75)
    ttfc = value(registry, "gen_ai_client_operation_time_to_first_chunk_seconds_sum", **LLM)
    assert ttfc == pytest.approx(0.25)
    assert value(registry, "llm_sre_llm_calls_total", **ok) == 1
    assert value(registry, "gen_ai_client_token_usage_sum", **LLM, gen_ai_token_type="output") == 30
    assert value(registry, "llm_sre_llm_tokens_total", gen_ai_provider_name="ollama",
                 gen_ai_request_model="qwen2.5:7b", gen_ai_token_type="input") == 12


def test_llm_call_exception_is_recorded_and_reraised(inst, registry):
    with pytest.raises(TimeoutError), inst.llm_call(provider="ollama", model="qwen2.5:7b") as call:
        call.tokens(input=5)
        raise TimeoutError("read timed out")
    assert value(registry, "llm_sre_llm_calls_total", **LLM, error_type="TimeoutError") == 1
    assert value(registry, "llm_sre_llm_calls_total", **LLM, error_type="") is None


def test_llm_call_error_status_without_exception(inst, registry):
    with inst.llm_call(provider="ollama", model="qwen2.5:7b") as call:
        call.error("429")
    assert value(registry, "llm_sre_llm_calls_total", **LLM, error_type="429") == 1


def test_async_context_manager_and_decorators(inst, registry):
    @inst.llm_call(provider="ollama", model="qwen2.5:7b")
    async def chat():
        return {"prompt_eval_count": 7, "eval_count": 3}

    @inst.retrieval(service="rag")
    def search(q):
        return ["a", "b"] if q else []

    @inst.cache_lookup("embedding")
    async def cached(key):
        return None if key == "cold" else [0.1]

    async def run():
        await chat()
        await chat()
        await cached("cold")
        await cached("warm")
        async with inst.rerank(model="bge-reranker-v2-m3", service="rag") as rr:
            rr.skip()

    asyncio.run(run())
    search("q")
    search("")
    assert value(registry, "llm_sre_llm_calls_total", **LLM, error_type="") == 2
    assert value(registry, "llm_sre_llm_tokens_total", gen_ai_provider_name="ollama",
                 gen_ai_request_model="qwen2.5:7b", gen_ai_token_type="input") == 14
    assert value(registry, "llm_sre_rag_retrievals_total", service="rag", outcome="hit") == 1
    assert value(registry, "llm_sre_rag_retrievals_total", service="rag", outcome="empty") == 1
    assert value(registry, "llm_sre_rag_documents_sum", service="rag") == 2
    assert value(registry, "llm_sre_cache_requests_total", cache="embedding", result="hit") == 1
    assert value(registry, "llm_sre_cache_requests_total", cache="embedding", result="miss") == 1
    assert value(registry, "llm_sre_rag_reranks_total", service="rag", outcome="skipped") == 1
    assert value(registry, "llm_sre_rag_rerank_duration_seconds_count", service="rag",
                 rerank_model="bge-reranker-v2-m3") is None


def test_retrieval_and_rerank_failures(inst, registry, clock):
    with pytest.raises(ConnectionError), inst.retrieval():
        raise ConnectionError
    with pytest.raises(RuntimeError), inst.rerank(model="ce"):
        clock.now += 0.2
        raise RuntimeError
    with inst.retrieval() as r:
        r.documents(4, top_score=1.7, context_tokens=900)
    assert value(registry, "llm_sre_rag_retrievals_total", service="app", outcome="error") == 1
    assert value(registry, "llm_sre_rag_reranks_total", service="app", outcome="fallback") == 1
    assert value(registry, "llm_sre_rag_rerank_duration_seconds_sum", service="app", rerank_model="ce") == \
        pytest.approx(0.2)
    assert value(registry, "llm_sre_rag_top_score_sum", service="app") == 1.0  # clamped
    assert value(registry, "llm_sre_rag_context_tokens_sum", service="app") == 900


def test_labels_stay_bounded(registry):
    inst = Instruments(registry, max_models=2)
    for i in range(5):
        with inst.llm_call(provider=f"acme-internal-{i}", model=f"m{i}", operation="chat") as call:
            call.error(f"weird failure {i}")
    samples = next(m for m in registry.collect() if m.name == "llm_sre_llm_calls").samples
    models = {s.labels["gen_ai_request_model"] for s in samples}
    assert models == {"m0", "m1", "_OTHER"}
    assert {s.labels["error_type"] for s in samples} == {"_OTHER"}
    assert len({s.labels["gen_ai_provider_name"] for s in samples}) <= 6


def test_cache_size_evictions_and_eval(inst, registry):
    inst.cache_entries("embedding", 42)
    inst.cache_evicted("embedding", 3)
    inst.eval_score("faithfulness", 0.8)
    assert value(registry, "llm_sre_cache_entries", cache="embedding") == 42
    assert value(registry, "llm_sre_cache_evictions_total", cache="embedding") == 3
    assert value(registry, "llm_sre_eval_score_sum", metric="faithfulness") == pytest.approx(0.8)


def test_active_trace_becomes_an_exemplar_in_openmetrics(inst, registry):
    with TracerProvider().get_tracer("test").start_as_current_span("rag-request") as span:
        with inst.llm_call(provider="ollama", model="qwen2.5:7b"):
            pass
        trace_id = format(span.get_span_context().trace_id, "032x")
    with inst.llm_call(provider="ollama", model="qwen2.5:7b"):
        pass  # no active span: no exemplar, nothing breaks
    text = openmetrics(registry).decode()
    calls = next(line for line in text.splitlines() if line.startswith("llm_sre_llm_calls_total{"))
    assert '# {span_id="' in calls and f'trace_id="{trace_id}"' in calls
    assert value(registry, "llm_sre_llm_calls_total", **LLM, error_type="") == 2
