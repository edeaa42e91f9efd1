"""Local model servers speaking the real wire formats: Ollama ``/api/chat`` and OpenAI-compatible
``/v1/chat/completions``. Tests script the answer (fixed content, or a function of the request,
HTTP status) or make it hang."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.fakes import FakeService


class FakeModelServer(FakeService):
    """Answers every chat request with ``content``; ``hang`` holds the reply until released."""

    def __init__(self, content: str = "{}", model: str = "qwen2.5:7b") -> None:
        super().__init__()
        self.content, self.model = content, model
        self.answer: Callable[[dict], str] | None = None  # when set, the content depends on the request
        self.hang = False
        self.released = threading.Event()

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        super().__exit__(*exc)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        if self.hang:
            self.released.wait(30)  # a model stuck loading: the client's deadline must fire first
        if self.answer is not None and method == "POST":
            self.content = self.answer(body)
        if method == "POST" and path == "/api/chat":
            return 200, {}, self._ollama(body)
        if method == "POST" and path == "/v1/chat/completions":
            return 200, {}, self._openai(body)
        return 404, {}, "404 page not found"

    def _ollama(self, body: dict) -> dict:
        # Field set and units as Ollama 0.5+ returns them for a non-streaming chat (durations in ns).
        return {
            "model": body["model"],
            "created_at": "2026-11-26T23:10:04.512345Z",
            "message": {"role": "assistant", "content": self.content},
            "done_reason": "stop",
            "done": True,
            "total_duration": 2_113_004_167,
            "load_duration": 21_350_417,
            "prompt_eval_count": 1187,
            "prompt_eval_duration": 1_400_000_000,
            "eval_count": 221,
            "eval_duration": 690_000_000,
        }

    def _openai(self, body: dict) -> dict:
        return {
            "id": "chatcmpl-7f3a",
            "object": "chat.completion",
            "created": 1764198604,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1187, "completion_tokens": 221, "total_tokens": 1408},
        }
