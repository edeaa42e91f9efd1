"""Drop-in metrics for OpenAI-compatible servers (vLLM, llama.cpp server, …) through ``openai``.

::

    from openai import OpenAI
    from exporters.openai_compat import instrument
    client = instrument(OpenAI(base_url="http://vllm:8000/v1", api_key="-"), provider="vllm")
    client.chat.completions.create(model="Qwen/Qwen2.5-7B-Instruct", messages=[...])

Chat completions, completions and embeddings are recorded, sync (``OpenAI``) and async
(``AsyncOpenAI``), streaming included. Streams carry token usage only when the request asks for
it (``stream_options={"include_usage": True}``); we do not rewrite the caller's request. vLLM and
llama.cpp publish their own server metrics (``vllm:*``, ``llamacpp:*``): scrape those directly.
"""

from __future__ import annotations

from typing import Any, TypeVar

from exporters.clientwrap import Adapter, patch
from exporters.instrument import Instruments, LLMCall, Server, default, tokens_from_response

C = TypeVar("C")


def _has_token(chunk: Any) -> bool:
    for choice in getattr(chunk, "choices", None) or ():
        delta = getattr(choice, "delta", None)
        if getattr(choice, "text", None) or (delta is not None and (delta.content or delta.tool_calls)):
            return True
    return False


def _on_response(call: LLMCall, response: Any) -> None:
    call.tokens(*tokens_from_response(response))
    model = getattr(response, "model", None)  # every chunk of a stream names it too
    call.response_model(model if isinstance(model, str) else None)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def instrument(client: C, inst: Instruments | None = None, provider: str = "openai") -> C:
    """Record the calls of an ``openai.OpenAI`` / ``AsyncOpenAI`` client; returns the client.

    ``provider`` names the server (``vllm``, ``llama.cpp``, ``openai``) in ``gen_ai_provider_name``;
    the client's ``base_url`` gives ``server_address``/``server_port``.
    """
    adapter = Adapter(provider=provider, on_response=_on_response, has_token=_has_token, status_of=_status)
    recorder = inst or default()
    resources = {
        client.chat.completions: {"create": "chat"},  # type: ignore[attr-defined]
        client.completions: {"create": "text_completion"},  # type: ignore[attr-defined]
        client.embeddings: {"create": "embeddings"},  # type: ignore[attr-defined]
    }
    server = Server.from_url(getattr(client, "base_url", None))
    for resource, methods in resources.items():
        patch(resource, methods, recorder, adapter, server)
    return client
