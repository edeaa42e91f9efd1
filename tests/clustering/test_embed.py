"""Embedders: the wire formats, the cache, and the fallback to the local vectoriser."""

from __future__ import annotations

import numpy as np
import pytest

from clustering.embed import (
    EmbeddingCache,
    FallbackEmbedder,
    LocalVectoriser,
    OllamaEmbedder,
    OpenAIEmbedder,
)
from llm_sre.processes import free_port
from tests.clustering.fake_embedder import FakeEmbedder, vector

TEXTS = ["connection pool exhausted", "too many clients already", "no space left on device"]


@pytest.fixture
def server():
    with FakeEmbedder() as fake:
        yield fake


def test_ollama_vectors_are_used_and_cached(server, tmp_path) -> None:
    reasons: list[str] = []
    cache = EmbeddingCache(tmp_path / "embeddings.db")
    emb = FallbackEmbedder(OllamaEmbedder(server.url, "nomic-embed-text"), cache, on_fallback=reasons.append)
    first = emb.embed(TEXTS)
    assert (first.embedder, first.fallback_reason, first.matrix.shape) == (
        "ollama:nomic-embed-text",
        None,
        (3, 16),
    )
    assert server.requests[0].body == {"model": "nomic-embed-text", "input": TEXTS}
    again = FallbackEmbedder(
        OllamaEmbedder(server.url, "nomic-embed-text"), EmbeddingCache(tmp_path / "embeddings.db")
    )
    second = again.embed([*TEXTS, "a new line"])
    assert second.cached == 3
    assert server.requests[-1].body["input"] == ["a new line"]  # only the text not in the cache
    assert np.allclose(second.matrix[:3], first.matrix)
    assert reasons == []


def test_openai_rows_follow_index_order(server) -> None:
    emb = FallbackEmbedder(OpenAIEmbedder(f"{server.url}/v1", "bge-small"))
    result = emb.embed(TEXTS)
    assert result.embedder == "openai:bge-small"
    want = np.array([vector(t) for t in TEXTS], dtype=np.float32)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    assert np.allclose(result.matrix, want)


@pytest.mark.parametrize(
    ("mode", "reason"), [("wrong_size", "bad_response"), ("too_few", "bad_response"), ("hang", "timeout")]
)
def test_a_bad_or_slow_server_falls_back_without_losing_events(server, mode, reason) -> None:
    server.mode = mode
    reasons: list[str] = []
    emb = FallbackEmbedder(OllamaEmbedder(server.url, "m", timeout=0.3), on_fallback=reasons.append)
    result = emb.embed(TEXTS)
    assert (result.embedder, result.fallback_reason) == ("local", reason)
    assert result.matrix.shape[0] == len(TEXTS)
    assert reasons == [reason]


def test_a_server_that_is_down_falls_back() -> None:
    emb = FallbackEmbedder(OllamaEmbedder(f"http://127.0.0.1:{free_port()}", "m", timeout=1))
    result = emb.embed(TEXTS)
    assert (result.embedder, result.fallback_reason, result.matrix.shape[0]) == ("local", "unavailable", 3)


def test_the_local_vectoriser_puts_one_cause_in_different_words_close_together() -> None:
    m = LocalVectoriser().embed(
        [
            "connection pool exhausted",
            "FATAL: too many clients already",
            "QueuePool limit of size 5 overflow 10 reached",
            "no space left on device",
        ]
    )
    sims = (m @ m.T).toarray()
    assert min(sims[0, 1], sims[0, 2], sims[1, 2]) > 0.5
    assert max(sims[3, :3]) < 0.2
