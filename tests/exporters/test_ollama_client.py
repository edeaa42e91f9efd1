"""The instrumented ollama client records client and server-side metrics against a local Ollama API."""

from __future__ import annotations

import asyncio

import ollama
import pytest
from prometheus_client import CollectorRegistry

from exporters.instrument import Instruments
from exporters.ollama import instrument
from tests.exporters.fake_ollama import FakeOllama
from tests.exporters.samples import sample_sum

GAP = 0.3
MODEL = {"gen_ai_provider_name": "ollama", "gen_ai_request_model": "qwen2.5:7b"}


@pytest.fixture(scope="module")
def server():
    with FakeOllama(token_gap=GAP) as fake:
        yield fake


@pytest.fixture
def registry():
    return CollectorRegistry()


def get(registry, name, **labels):
    return sample_sum(registry, name, **labels)


def labels(operation, **extra):
    return {**MODEL, "gen_ai_operation_name": operation, **extra}


def test_chat_generate_embed_sync(server, registry):
    client = instrument(ollama.Client(host=server.url), Instruments(registry))
    assert client.chat(model="qwen2.5:7b", messages=[{"role": "user", "content": "hi"}]).message.content
    client.generate("qwen2.5:7b", "hi")
    client.embed(model="qwen2.5:7b", input=["a", "b"])
    assert get(registry, "llm_sre_llm_calls_total", **labels("chat")) == 1
    assert get(registry, "llm_sre_llm_calls_total", **labels("text_completion")) == 1
    assert get(registry, "llm_sre_llm_calls_total", **labels("embeddings")) == 1
    assert get(registry, "gen_ai_client_token_usage_sum", **labels("chat"), gen_ai_token_type="output") == 298
    embedded = get(registry, "gen_ai_client_token_usage_sum", **labels("embeddings"),
                   gen_ai_token_type="input")
    assert embedded == 8
    # Server-side timings from the nanosecond fields.
    assert get(registry, "gen_ai_server_time_to_first_token_seconds_sum", **MODEL) == pytest.approx(
        2 * (2_154_458 + 383_809_000) / 1e9)
    # The convention's time per output token: (duration - time to first token) / (tokens after the first).
    ttft = (2_154_458 + 383_809_000) / 1e9
    assert get(registry, "gen_ai_server_time_per_output_token_seconds_sum", **MODEL) == pytest.approx(
        2 * (5_191_566_416 / 1e9 - ttft) / 297)
    assert get(registry, "gen_ai_server_request_duration_seconds_count", **MODEL, error_type="") == 3
    host = {"server_address": "127.0.0.1", "server_port": str(server.server.server_address[1])}
    for histogram in ("gen_ai_server_time_to_first_token_seconds", "gen_ai_server_request_duration_seconds",
                      "gen_ai_client_token_usage"):
        assert get(registry, f"{histogram}_count", **labels("chat"), gen_ai_response_model="qwen2.5:7b",
                   **host), histogram


def test_streaming_ttft_is_taken_at_the_first_token(server, registry):
    client = instrument(ollama.Client(host=server.url), Instruments(registry))
    text = "".join(c.message.content for c in client.chat(model="qwen2.5:7b", messages=[], stream=True))
    assert text == "Hello there"
    ttft = get(registry, "gen_ai_client_operation_time_to_first_chunk_seconds_sum", **labels("chat"))
    total = get(registry, "gen_ai_client_operation_duration_seconds_sum", **labels("chat"))
    # The role-only first chunk arrives at once; the first token only after the server's pause.
    assert GAP <= ttft <= total
    assert get(registry, "llm_sre_llm_tokens_total", **MODEL, gen_ai_token_type="output") == 298


def test_async_client_streaming_and_errors(server, registry):
    client = instrument(ollama.AsyncClient(host=server.url), Instruments(registry))

    async def run():
        chunks = [c async for c in await client.generate(model="qwen2.5:7b", prompt="hi", stream=True)]
        await client.chat(model="qwen2.5:7b", messages=[])
        with pytest.raises(ollama.ResponseError):
            await client.chat(model="missing-model", messages=[])
        return chunks

    assert len(asyncio.run(run())) == 4
    assert get(registry, "gen_ai_client_operation_time_to_first_chunk_seconds_sum",
               **labels("text_completion")) >= GAP
    assert get(registry, "llm_sre_llm_calls_total", **labels("chat")) == 1
    assert get(registry, "llm_sre_llm_calls_total", gen_ai_provider_name="ollama",
               gen_ai_request_model="missing-model", gen_ai_operation_name="chat", error_type="404") == 1


def test_server_errors_and_connection_failures(server, registry):
    inst = Instruments(registry)
    client = instrument(ollama.Client(host=server.url), inst)
    server.status = 500
    try:
        with pytest.raises(ollama.ResponseError):
            client.chat(model="qwen2.5:7b", messages=[])
    finally:
        server.status = 200
    assert get(registry, "llm_sre_llm_calls_total", **labels("chat", error_type="500")) == 1
    dead = instrument(ollama.Client(host="http://127.0.0.1:9"), inst)
    with pytest.raises(ConnectionError):
        dead.chat(model="qwen2.5:7b", messages=[])
    assert get(registry, "llm_sre_llm_calls_total", **labels("chat", error_type="ConnectionError")) == 1


def test_stopping_a_stream_early_is_not_an_error(server, registry):
    client = instrument(instrument(ollama.Client(host=server.url), Instruments(registry)))  # twice: no-op
    stream = client.chat(model="qwen2.5:7b", messages=[], stream=True)
    next(stream)
    stream.close()
    assert get(registry, "llm_sre_llm_calls_total", **labels("chat")) == 1
