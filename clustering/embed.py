"""Embedders: one protocol, three backends, a cache, and a fallback that never loses an event.

* :class:`OllamaEmbedder` - ``POST /api/embed`` (``{"model", "input": [...]}`` → ``{"embeddings"}``).
* :class:`OpenAIEmbedder` - ``POST /v1/embeddings`` on vLLM, llama.cpp, TEI or any compatible server.
* :class:`LocalVectoriser` - TF-IDF on words and character n-grams plus failure concepts
  (:mod:`clustering.concepts`); always available, fitted on the batch it embeds.

:class:`FallbackEmbedder` asks the configured server and switches to the local vectoriser for the
whole batch when the server is down, slow, or answers with the wrong number or size of vectors,
so every event is embedded in one space and the output says which embedder ran and why.

    embedder = FallbackEmbedder(OllamaEmbedder("http://127.0.0.1:11434", "nomic-embed-text"), cache)
    result = embedder.embed(["connection pool exhausted", "too many clients already"])
    result.embedder, result.fallback_reason  # ('ollama:nomic-embed-text', None) or ('local', 'unavailable')
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from clustering.concepts import CONCEPTS, concepts

log = logging.getLogger(__name__)

Matrix = Any  # a dense ndarray or a scipy sparse matrix, one L2-normalised row per text
_PLACEHOLDER = re.compile(r"<[A-Z]+>")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class EmbeddingError(RuntimeError):
    """A server answered, but not with one finite vector of the expected size per text."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> Matrix: ...


def _words(text: str) -> str:
    """Placeholders out, CamelCase and snake_case split: ``QueuePool`` meets "pool"."""
    return _CAMEL.sub(" ", _PLACEHOLDER.sub(" ", text)).replace("_", " ").lower()


class LocalVectoriser:
    """Words (1-2 grams), character 3-5 grams and concept features, each block L2-normalised.

    The concept block weighs most: it is what makes different wordings of one cause neighbours.
    """

    name = "local"

    def __init__(
        self, word_weight: float = 1.0, char_weight: float = 0.5, concept_weight: float = 1.6
    ) -> None:
        self.weights = (word_weight, char_weight, concept_weight)
        self._names = list(CONCEPTS)

    def embed(self, texts: Sequence[str]) -> Matrix:
        docs = [_words(t) for t in texts]
        blocks = []
        for weight, vec in (
            (
                self.weights[0],
                TfidfVectorizer(
                    ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b[a-z][a-z0-9]+\b"
                ),
            ),
            (self.weights[1], TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ):
            try:
                blocks.append(weight * vec.fit_transform(docs))
            except ValueError:  # every text empty after cleaning: this block contributes nothing
                blocks.append(sparse.csr_matrix((len(docs), 1)))
        found = np.zeros((len(texts), len(self._names)))
        for row, text in enumerate(texts):
            for name in concepts(text):
                found[row, self._names.index(name)] = 1.0
        blocks.append(self.weights[2] * sparse.csr_matrix(normalize(found)))
        return normalize(sparse.hstack(blocks).tocsr())


def _check(vectors: Any, count: int, dim: int | None) -> np.ndarray:
    try:
        matrix = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise EmbeddingError("vectors are not numbers") from exc
    if matrix.ndim != 2 or matrix.shape[0] != count or matrix.shape[1] == 0:
        raise EmbeddingError(f"expected {count} vectors, got shape {matrix.shape}")
    if dim is not None and matrix.shape[1] != dim:
        raise EmbeddingError(f"expected {dim} dimensions, got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        raise EmbeddingError("non-finite values")
    return matrix


class _HttpEmbedder:
    """A model behind a URL; subclasses say the wire format (``_request``) and ``kind``."""

    batch = 64
    kind = ""

    def __init__(
        self, url: str, model: str, timeout: float = 5.0, client: httpx.Client | None = None
    ) -> None:
        self.url, self.model = url.rstrip("/"), model
        self.name = f"{self.kind}:{model}"
        self.client = client or httpx.Client(timeout=timeout)
        self.dim: int | None = None  # learnt from the first answer; later answers must match

    def _request(self, texts: list[str]) -> Any:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), self.batch):
            chunk = list(texts[start : start + self.batch])
            matrix = _check(self._request(chunk), len(chunk), self.dim)
            self.dim = matrix.shape[1]
            parts.append(matrix)
        return normalize(np.vstack(parts)) if parts else np.zeros((0, self.dim or 1), dtype=np.float32)


class OllamaEmbedder(_HttpEmbedder):
    """Ollama's batch endpoint ``/api/embed`` (the older ``/api/embeddings`` takes one prompt)."""

    kind = "ollama"

    def _request(self, texts: list[str]) -> Any:
        resp = self.client.post(f"{self.url}/api/embed", json={"model": self.model, "input": texts})
        resp.raise_for_status()
        return resp.json()["embeddings"]


class OpenAIEmbedder(_HttpEmbedder):
    """``/v1/embeddings``; ``url`` is the base ending in ``/v1``. Rows come back ordered by ``index``."""

    kind = "openai"

    def _request(self, texts: list[str]) -> Any:
        resp = self.client.post(f"{self.url}/embeddings", json={"model": self.model, "input": texts})
        resp.raise_for_status()
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return [d["embedding"] for d in data]


class EmbeddingCache:
    """Vectors by SHA-256 of (embedder name, text) in SQLite, so a re-run embeds only new texts."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    @staticmethod
    def key(name: str, text: str) -> str:
        return hashlib.sha256(f"{name}\x00{text}".encode()).hexdigest()

    def get(self, name: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {self.key(name, t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for k in keys:
                row = self._db.execute("SELECT vec FROM vectors WHERE key = ?", (k,)).fetchone()
                if row:
                    found[keys[k]] = np.frombuffer(row[0], dtype=np.float32)
        return found

    def put(self, name: str, texts: Sequence[str], matrix: np.ndarray) -> None:
        rows = [(self.key(name, t), matrix[i].astype(np.float32).tobytes()) for i, t in enumerate(texts)]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.commit()


@dataclass(frozen=True)
class Embedding:
    matrix: Matrix
    embedder: str  # which one ran: "local", "ollama:nomic-embed-text" …
    fallback_reason: str | None = None  # why the configured server was not used
    cached: int = 0


class FallbackEmbedder:
    """The configured server (through the cache), else the local vectoriser for the whole batch."""

    def __init__(
        self,
        primary: Embedder | None,
        cache: EmbeddingCache | None = None,
        local: Embedder | None = None,
        on_fallback: Any = None,
    ) -> None:
        self.primary, self.cache, self.local = primary, cache, local or LocalVectoriser()
        self.on_fallback = on_fallback  # called with the reason, e.g. to count it

    def _remote(self, primary: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        unique = list(dict.fromkeys(texts))
        known = self.cache.get(primary.name, unique) if self.cache else {}
        missing = [t for t in unique if t not in known]
        if missing:
            fresh = primary.embed(missing)
            if self.cache:
                self.cache.put(primary.name, missing, fresh)
            known.update(zip(missing, fresh, strict=True))
        dims = {v.shape[0] for v in known.values()}
        if len(dims) > 1:  # cached vectors of another size: the model behind the name changed
            raise EmbeddingError(f"mixed dimensions {sorted(dims)}")
        return np.vstack([known[t] for t in texts]), len(unique) - len(missing)

    def embed(self, texts: Sequence[str]) -> Embedding:
        if self.primary is not None and texts:
            try:
                matrix, cached = self._remote(self.primary, texts)
                return Embedding(matrix, self.primary.name, None, cached)
            except httpx.TimeoutException:
                reason = "timeout"
            except httpx.TransportError:
                reason = "unavailable"
            except (httpx.HTTPStatusError, EmbeddingError, KeyError, TypeError, ValueError) as exc:
                log.warning("embedding server answered wrongly: %s", exc)
                reason = "bad_response"
            if self.on_fallback:
                self.on_fallback(reason)
            return Embedding(self.local.embed(texts), self.local.name, reason)
        return Embedding(self.local.embed(texts), self.local.name)


def build_embedder(settings: Any, on_fallback: Any = None) -> FallbackEmbedder:
    """The embedder ``settings`` (:class:`clustering.settings.ClusteringSettings`) ask for."""
    primary: Embedder | None = None
    timeout = settings.embed_timeout_seconds
    if settings.embed_backend == "ollama":
        primary = OllamaEmbedder(settings.ollama_host, settings.ollama_embed_model, timeout)
    elif settings.embed_backend == "openai":
        if not settings.openai_embed_url or not settings.openai_embed_model:
            raise ValueError("LLM_SRE_EMBED_BACKEND=openai needs LLM_SRE_EMBED_OPENAI_URL and _MODEL")
        primary = OpenAIEmbedder(settings.openai_embed_url, settings.openai_embed_model, timeout)
    cache = EmbeddingCache(settings.data_dir / "embeddings.db") if primary else None
    return FallbackEmbedder(primary, cache, on_fallback=on_fallback)
