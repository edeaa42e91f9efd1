"""LLM backends for the analyst: Ollama (default) and any OpenAI-compatible server.

One class per backend behind a one-method protocol. Backends only talk to the server; the
deadline, parsing, grounding and fallback live in the analyst, so a backend that hangs,
errors or babbles is handled the same way for both.

    llm = OllamaLLM("http://127.0.0.1:11434", "qwen2.5:7b", keep_alive="30m")
    done = await asyncio.wait_for(llm.complete(messages, schema, num_ctx=4096), timeout=5)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import ollama

Messages = list[dict[str, str]]
Schema = dict[str, Any]


@dataclass(frozen=True)
class Completion:
    content: str
    model: str


class LLM(Protocol):
    backend: str

    async def complete(self, messages: Messages, schema: Schema, num_ctx: int) -> Completion: ...


class OllamaLLM:
    """``/api/chat`` through the ``ollama`` client with ``format`` set to the answer's JSON schema."""

    backend = "ollama"

    def __init__(self, host: str, model: str, keep_alive: str | float = "30m", timeout: float = 30.0) -> None:
        self.host, self.model, self.keep_alive, self.timeout = host, model, keep_alive, timeout

    async def complete(self, messages: Messages, schema: Schema, num_ctx: int) -> Completion:
        # A client per call: its httpx pool is bound to the running event loop, and the CLI, the
        # API and the worker each run their own loop. Cancellation (the deadline) closes it.
        async with ollama.AsyncClient(host=self.host, timeout=self.timeout) as client:
            resp = await client.chat(
                model=self.model,
                messages=messages,
                format=schema,
                # temperature 0: summaries should be reproducible; num_ctx sized by the caller so
                # a long prompt is never silently truncated by Ollama's 2048/4096 default.
                options={"num_ctx": num_ctx, "temperature": 0},
                keep_alive=self.keep_alive,
            )
        return Completion(resp.message.content or "", resp.model or self.model)


class OpenAICompatLLM:
    """``POST /v1/chat/completions`` on vLLM, llama.cpp's server or llama-cpp-python.

    Plain httpx rather than the ``openai`` SDK: it is one request, and the SDK would be a runtime
    dependency with its own retry policy fighting our deadline.
    """

    backend = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url, self.model, self.api_key, self.timeout = base_url.rstrip("/"), model, api_key, timeout

    async def complete(self, messages: Messages, schema: Schema, num_ctx: int) -> Completion:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": 1024,
            # "json_object" + "schema" is what llama.cpp's servers constrain with a grammar; vLLM
            # accepts json_object too (JSON without the schema) and the schema is also in the prompt.
            "response_format": {"type": "json_object", "schema": schema},
        }
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            resp = await http.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
            resp.raise_for_status()
            data = resp.json()
        return Completion(data["choices"][0]["message"]["content"] or "", data.get("model", self.model))
