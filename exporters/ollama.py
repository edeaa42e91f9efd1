"""Drop-in metrics for the ``ollama`` Python client: chat, generate and embed, sync and async.

::

    import ollama
    from exporters.ollama import instrument
    client = instrument(ollama.Client(host="http://127.0.0.1:11434"))
    client.chat(model="qwen2.5:7b", messages=[...])              # recorded
    for chunk in client.chat(model="qwen2.5:7b", messages=[...], stream=True): ...

Besides the client-side GenAI metrics, each response's nanosecond fields feed the server-side
histograms (docs/exporters.md, "Ollama client"): request duration = ``total_duration``, time to first token =
``load_duration + prompt_eval_duration``, and time per output token as the convention defines it
(semantic-conventions v1.41.0, ``gen_ai.server.time_per_output_token``): the request duration
minus the time to first token, divided by the output tokens after the first,
``(total_duration - ttft) / (eval_count - 1)``. The response's ``model`` is
``gen_ai_response_model``; the client's host and port are ``server_address``/``server_port``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from exporters.clientwrap import Adapter, patch
from exporters.instrument import Instruments, LLMCall, Server, default

C = TypeVar("C")
NS = 1e9
METHODS = {"chat": "chat", "generate": "text_completion", "embed": "embeddings", "embeddings": "embeddings"}


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _has_token(chunk: Any) -> bool:
    message = _get(chunk, "message")
    text = _get(message, "content") if message is not None else _get(chunk, "response")
    return bool(text) or bool(message is not None and _get(message, "tool_calls"))


def _on_response(call: LLMCall, response: Any) -> None:
    total = _get(response, "total_duration")
    if total is None:  # an intermediate stream chunk: the counts come with the final one
        return
    prompt_tokens, output_tokens = _get(response, "prompt_eval_count"), _get(response, "eval_count")
    call.tokens(input=prompt_tokens, output=output_tokens)
    call.response_model(_get(response, "model"))
    ttft = None
    if _get(response, "prompt_eval_duration") is not None:
        ttft = ((_get(response, "load_duration") or 0) + _get(response, "prompt_eval_duration")) / NS
    tpot = None
    if ttft is not None and output_tokens and output_tokens > 1:
        tpot = max(total / NS - ttft, 0.0) / (output_tokens - 1)
    call.server_timing(duration=total / NS, time_to_first_token=ttft, time_per_output_token=tpot)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


ADAPTER = Adapter(provider="ollama", on_response=_on_response, has_token=_has_token, status_of=_status)


def instrument(client: C, inst: Instruments | None = None) -> C:
    """Record every chat/generate/embed call of an ``ollama.Client`` or ``ollama.AsyncClient``.

    Patches the instance (not the class) and returns it; calling it twice is harmless.
    """
    # The ollama client keeps its httpx client (and so the host it talks to) in ``_client``.
    base_url = getattr(getattr(client, "_client", None), "base_url", None)
    patch(client, METHODS, inst or default(), ADAPTER, Server.from_url(base_url))
    return client
