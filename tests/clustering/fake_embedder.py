"""A local embedding server speaking Ollama's ``/api/embed`` and OpenAI's ``/v1/embeddings``.

Vectors are a deterministic bag of word hashes, enough for the client and fallback paths; tests
can make it return the wrong number or size of vectors, or hang past the client's timeout.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from tests.fakes import FakeService

DIM = 16


def vector(text: str, dim: int = DIM) -> list[float]:
    out = [0.0] * dim
    for word in text.lower().split():
        out[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    return out


class FakeEmbedder(FakeService):
    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"  # "ok" | "wrong_size" | "too_few" | "hang"
        self.released = threading.Event()

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        super().__exit__(*exc)

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        if self.mode == "hang":
            self.released.wait(10)
        if self.mode == "wrong_size":
            return [vector(t, DIM + i % 2) for i, t in enumerate(texts)]
        if self.mode == "too_few":
            return [vector(t) for t in texts[:-1]]
        return [vector(t) for t in texts]

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if path == "/api/embed":
            return (
                200,
                {},
                {
                    "model": body["model"],
                    "embeddings": self._vectors(texts),
                    "total_duration": 14_000_000,
                    "load_duration": 1_000_000,
                    "prompt_eval_count": len(texts),
                },
            )
        if path == "/v1/embeddings":
            data = [
                {"object": "embedding", "index": i, "embedding": v}
                for i, v in enumerate(self._vectors(texts))
            ]
            return (
                200,
                {},
                {
                    "object": "list",
                    "data": list(reversed(data)),
                    "model": body["model"],
                    "usage": {"prompt_tokens": 3, "total_tokens": 3},
                },
            )
        return 404, {}, "404 page not found"
