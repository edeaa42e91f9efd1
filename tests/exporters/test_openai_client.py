"""The instrumented openai client records calls to an OpenAI-compatible server (vLLM, llama.cpp)."""

from __future__ import annotations

import asyncio

import openai
import pytest
from prometheus_client import CollectorRegistry

from exporters.instrument import Instruments
from exporters.openai_compat import instrument
from tests.exporters.fake_openai import FakeOpenAI
from tests.exporters.samples import sample_sum

GAP = 0.3
MODEL = "Qwen/Qwen2.5-7B-Instruct"
BASE = {"gen_ai_provider_name": "vllm", "gen_ai_request_model": "qwen/qwen2.5-7b-instruct"}


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(token_gap=GAP) as fake:
        yield fake


@pytest.fixture
def registry():
    return CollectorRegistry()


def get(registry, name, operation="chat", error=None, **extra):
    if error is not None:
        extra["error_type"] = error
    return sample_sum(registry, name, **BASE, gen_ai_operation_name=operation, **extra)


def test_sync_calls_record_usage(server, registry):
    client = instrument(openai.OpenAI(base_url=server.url, api_key="-", max_retries=0), Instruments(registry),
                        provider="vllm")
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    client.completions.create(model=MODEL, prompt="hi")
    client.embeddings.create(model=MODEL, input="hi")
    assert get(registry, "llm_sre_llm_calls_total") == 1
    assert get(registry, "llm_sre_llm_calls_total", "text_completion") == 1
    assert get(registry, "gen_ai_client_token_usage_sum", gen_ai_token_type="output") == 7
    assert get(registry, "gen_ai_client_token_usage_sum", "embeddings", gen_ai_token_type="input") == 5
    # The server's answer names the model that replied, the client's base URL the server.
    host = {"server_address": "127.0.0.1", "server_port": str(server.server.server_address[1])}
    assert get(registry, "gen_ai_client_operation_duration_seconds_count", error="",
               gen_ai_response_model="qwen/qwen2.5-7b-instruct", **host) == 1


def test_streaming_ttft_at_first_content_and_usage_from_last_chunk(server, registry):
    client = instrument(openai.OpenAI(base_url=server.url, api_key="-", max_retries=0), Instruments(registry),
                        provider="vllm")
    stream = client.chat.completions.create(model=MODEL, messages=[], stream=True,
                                            stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello there"
    ttft = get(registry, "gen_ai_client_operation_time_to_first_chunk_seconds_sum")
    assert GAP <= ttft <= get(registry, "gen_ai_client_operation_duration_seconds_sum")
    assert get(registry, "gen_ai_client_token_usage_sum", gen_ai_token_type="input") == 21
    # "Hello", " there": one chunk after the first, so one time-per-output-chunk observation.
    assert get(registry, "gen_ai_client_operation_time_per_output_chunk_seconds_count") == 1


def test_async_stream_and_http_errors(server, registry):
    client = instrument(openai.AsyncOpenAI(base_url=server.url, api_key="-", max_retries=0),
                        Instruments(registry), provider="vllm")

    async def run():
        async with await client.completions.create(model=MODEL, prompt="hi", stream=True) as stream:
            texts = [c.choices[0].text async for c in stream]
        server.status = 429
        try:
            with pytest.raises(openai.RateLimitError):
                await client.chat.completions.create(model=MODEL, messages=[])
        finally:
            server.status = 200
        return texts

    assert "".join(asyncio.run(run())) == "Hello there"
    assert get(registry, "gen_ai_client_operation_time_to_first_chunk_seconds_sum", "text_completion") >= GAP
    assert get(registry, "llm_sre_llm_calls_total", error="429") == 1


def test_stream_keeps_the_openai_stream_interface(server, registry):
    client = instrument(openai.OpenAI(base_url=server.url, api_key="-", max_retries=0), Instruments(registry),
                        provider="vllm")
    with client.chat.completions.create(model=MODEL, messages=[], stream=True) as stream:
        assert stream.response.status_code == 200  # attributes of openai's Stream still work
        first = next(c for c in stream if c.choices and c.choices[0].delta.content)
    assert first.choices[0].delta.content == "Hello"
    assert get(registry, "llm_sre_llm_calls_total") == 1  # leaving the block ended the call
