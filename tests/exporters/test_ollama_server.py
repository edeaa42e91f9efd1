"""The Ollama poller reads /api/ps and /api/tags from a local server with Ollama's response shapes."""

from __future__ import annotations

import ollama
import pytest
from prometheus_client import CollectorRegistry

from exporters.instrument import Instruments
from exporters.ollama_server import OllamaPoller
from tests.exporters.fake_ollama import FakeOllama, loaded, pulled


@pytest.fixture
def setup():
    with FakeOllama() as server:
        registry = CollectorRegistry()
        poller = OllamaPoller(Instruments(registry), ollama.Client(host=server.url, timeout=5))
        yield server, registry, poller


def get(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_loaded_models_vram_expiry_and_load_counts(setup):
    server, registry, poller = setup
    server.tags = [pulled("qwen2.5:7b"), pulled("nomic-embed-text:latest"), pulled("llama3.2:3b")]
    server.ps = [loaded("qwen2.5:7b", 5_137_025_024, "2030-01-01T00:05:00Z")]
    poller.poll()
    assert get(registry, "llm_sre_ollama_up") == 1
    assert get(registry, "llm_sre_ollama_available_models") == 3
    assert get(registry, "llm_sre_ollama_loaded_models") == 1
    assert get(registry, "llm_sre_ollama_model_vram_bytes", model="qwen2.5:7b") == 5_137_025_024
    assert get(registry, "llm_sre_ollama_model_expiry_timestamp_seconds", model="qwen2.5:7b") == 1_893_456_300
    # Loaded before we watched: not a load we saw, but the series exists.
    assert get(registry, "llm_sre_ollama_model_loads_total", model="qwen2.5:7b") == 0

    server.ps = [loaded("nomic-embed-text:latest", 300_000_000, "2030-01-01T01:00:00+01:00")]
    poller.poll()
    assert get(registry, "llm_sre_ollama_model_unloads_total", model="qwen2.5:7b") == 1
    assert get(registry, "llm_sre_ollama_model_loads_total", model="nomic-embed-text") == 1
    assert get(registry, "llm_sre_ollama_model_vram_bytes", model="qwen2.5:7b") is None
    expiry = get(registry, "llm_sre_ollama_model_expiry_timestamp_seconds", model="nomic-embed-text")
    assert expiry == 1_893_456_000

    server.ps = [loaded("qwen2.5:7b", 5_137_025_024), loaded("nomic-embed-text:latest", 300_000_000)]
    poller.poll()
    poller.poll()
    assert get(registry, "llm_sre_ollama_model_loads_total", model="qwen2.5:7b") == 1
    assert get(registry, "llm_sre_ollama_loaded_models") == 2


def test_down_server_reports_up_zero_and_drops_model_gauges(setup):
    server, registry, poller = setup
    server.ps = [loaded("qwen2.5:7b", 1000)]
    poller.poll()
    server.down = True
    with pytest.raises(ollama.ResponseError):
        poller.poll()
    assert get(registry, "llm_sre_ollama_up") == 0
    assert get(registry, "llm_sre_ollama_model_vram_bytes", model="qwen2.5:7b") is None
    server.down = False
    server.ps = []
    poller.poll()
    assert get(registry, "llm_sre_ollama_up") == 1
    assert get(registry, "llm_sre_ollama_model_unloads_total", model="qwen2.5:7b") == 1
