"""LLM backends for the analyst: Ollama (default) and any OpenAI-compatible server.

One class per backend behind a one-method protocol. Backends only talk to the server; the
deadline, parsing, grounding and fallback live in the analyst, so a backend that hangs,
errors or babbles is handled the same way for both.

Both stream. A model server keeps generating for a request whose client merely stopped waiting;
it stops when the connection closes. The analyst's deadline cancels :meth:`complete`, which
closes the stream and so frees the (often shared, CPU-only) server at once. Output is capped
(``ANSWER_TOKENS``) and a repetition penalty keeps a small model from looping up to the cap.

    llm = OllamaLLM("http://127.0.0.1:11434", "qwen2.5:7b", keep_alive="30m", num_ctx=8192)
    done = await asyncio.wait_for(llm.complete(messages, schema), timeout=60)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import ollama

from alert_webhooks.analysis.prompt import ANSWER_TOKENS

Messages = list[dict[str, str]]
Schema = dict[str, Any]
REPEAT_PENALTY = 1.15


@dataclass(frozen=True)
class Completion:
    content: str
    model: str


class LLM(Protocol):
    backend: str

    async def complete(self, messages: Messages, schema: Schema) -> Completion: ...


class OllamaLLM:
    """``/api/chat`` through the ``ollama`` client, streaming, ``format`` set to the answer's schema.

    ``num_ctx`` is fixed for the process: Ollama reloads the model whenever it changes between
    calls, which on CPU costs more than the answer itself.
    """

    backend = "ollama"

    def __init__(
        self,
        host: str,
        model: str,
        keep_alive: str | float = "30m",
        timeout: float = 30.0,
        num_ctx: int = 8192,
    ) -> None:
        self.host, self.model, self.keep_alive, self.timeout = host, model, keep_alive, timeout
        self.num_ctx = num_ctx

    async def complete(self, messages: Messages, schema: Schema) -> Completion:
        # A client per call: its httpx pool is bound to the running event loop, and the CLI, the
        # API and the worker each run their own loop. Cancellation (the deadline) closes it, and
        # with it the stream.
        parts: list[str] = []
        model = self.model
        async with ollama.AsyncClient(host=self.host, timeout=self.timeout) as client:
            stream = await client.chat(
                model=self.model,
                messages=messages,
                format=schema,
                stream=True,
                # temperature 0: summaries should be reproducible.
                options={
                    "num_ctx": self.num_ctx,
                    "num_predict": ANSWER_TOKENS,
                    "temperature": 0,
                    "repeat_penalty": REPEAT_PENALTY,
                },
                keep_alive=self.keep_alive,
            )
            async for chunk in stream:
                parts.append(chunk.message.content or "")
                model = chunk.model or model
        return Completion("".join(parts), model)


class OpenAICompatLLM:
    """``POST /v1/chat/completions`` (server-sent events) on vLLM, llama.cpp's server or
    llama-cpp-python.

    Plain httpx rather than the ``openai`` SDK: it is one request, and the SDK would be a runtime
    dependency with its own retry policy fighting our deadline.
    """

    backend = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url, self.model, self.api_key, self.timeout = base_url.rstrip("/"), model, api_key, timeout

    async def complete(self, messages: Messages, schema: Schema) -> Completion:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": ANSWER_TOKENS,
            "repeat_penalty": REPEAT_PENALTY,  # llama.cpp's name; vLLM ignores fields it does not know
            "stream": True,
            # "json_object" + "schema" is what llama.cpp's servers constrain with a grammar; vLLM
            # accepts json_object too (JSON without the schema) and the fields are in the prompt.
            "response_format": {"type": "json_object", "schema": schema},
        }
        parts: list[str] = []
        model = self.model
        async with (
            httpx.AsyncClient(timeout=self.timeout) as http,
            http.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=headers) as resp,
        ):
            resp.raise_for_status()
            async for line in resp.aiter_lines():
                data = line.removeprefix("data:").strip()
                if not line.startswith("data:") or not data or data == "[DONE]":
                    continue
                event = json.loads(data)
                model = event.get("model") or model
                for choice in event.get("choices") or []:
                    parts.append((choice.get("delta") or {}).get("content") or "")
        return Completion("".join(parts), model)
