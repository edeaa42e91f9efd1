"""Wrap an LLM client method so every call is recorded, streaming or not, sync or async.

The Ollama and OpenAI-compatible integrations differ only in how they read a response (tokens,
server timings), what counts as a *token* chunk, and how an HTTP error carries its status. They
describe that in an :class:`Adapter`; this module does the timing, which is the subtle part:

* a streamed call stays open until the caller has consumed the stream, and its
  time-to-first-chunk is taken at the first chunk that carries generated text, not the first
  byte (Ollama and vLLM both send role-only or empty chunks first); every later such chunk adds
  one time-per-output-chunk observation (the time since the previous one);
* a caller that stops reading early (``break``) is not a model error;
* an exception is recorded with the HTTP status when there is one, else its class name.

Works for coroutine methods and for sync methods that return awaitables (openai's decorated
``create``), by looking at what the call returns rather than at the function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from exporters.instrument import Instruments, LLMCall, Server


@dataclass(frozen=True)
class Adapter:
    provider: str
    # Read tokens and server timings from a full response or from any chunk (no-op if absent).
    on_response: Callable[[LLMCall, Any], None]
    # True if a streamed chunk carries generated content.
    has_token: Callable[[Any], bool]
    # The HTTP status of a client exception, if it has one.
    status_of: Callable[[BaseException], int | None]


def _model(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("model") or (args[0] if args and isinstance(args[0], str) else ""))


def _fail(call: LLMCall, adapter: Adapter, exc: BaseException) -> None:
    status = adapter.status_of(exc)
    if status is not None and status > 0:
        call.error(str(status))
    call.__exit__(type(exc), exc, exc.__traceback__)


def _chunk(call: LLMCall, adapter: Adapter, chunk: Any) -> Any:
    if adapter.has_token(chunk):
        call.output_chunk()
    adapter.on_response(call, chunk)
    return chunk


def _iterate(call: LLMCall, adapter: Adapter, chunks: Iterator[Any]) -> Iterator[Any]:
    try:
        for chunk in chunks:
            yield _chunk(call, adapter, chunk)
    except GeneratorExit:  # the caller stopped reading: end the call, not an error
        call.__exit__(None, None, None)
        raise
    except BaseException as exc:
        _fail(call, adapter, exc)
        raise
    call.__exit__(None, None, None)


async def _aiterate(call: LLMCall, adapter: Adapter, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        async for chunk in chunks:
            yield _chunk(call, adapter, chunk)
    except GeneratorExit:
        call.__exit__(None, None, None)
        raise
    except BaseException as exc:
        _fail(call, adapter, exc)
        raise
    call.__exit__(None, None, None)


class _Wrapped:
    """The client's stream, iterated through the recorder; anything else (openai's ``.response``,
    ``with stream:``) behaves as the original object does."""

    def __init__(self, original: Any, recorded: Any) -> None:
        self._original = original
        self._recorded = recorded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _Stream(_Wrapped):
    """A sync stream: ``recorded`` is an iterator."""

    _recorded: Iterator[Any]

    def __iter__(self) -> Iterator[Any]:
        return self._recorded

    def __next__(self) -> Any:
        return next(self._recorded)

    def close(self) -> None:
        self._recorded.close()  # type: ignore[attr-defined]  # ends the recorded call
        if callable(getattr(self._original, "close", None)):
            self._original.close()

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncStream(_Wrapped):
    """The async counterpart of :class:`_Stream`: ``recorded`` is an async iterator."""

    _recorded: AsyncIterator[Any]

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._recorded

    async def __anext__(self) -> Any:
        return await self._recorded.__anext__()

    async def close(self) -> None:
        await self._recorded.aclose()  # type: ignore[attr-defined]
        closing = getattr(self._original, "close", None) or getattr(self._original, "aclose", None)
        if callable(closing) and inspect.isawaitable(result := closing()):
            await result

    async def __aenter__(self) -> _AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _settle(call: LLMCall, adapter: Adapter, result: Any, stream: bool) -> Any:
    if stream:
        if hasattr(result, "__aiter__"):
            return _AsyncStream(result, _aiterate(call, adapter, result))
        return _Stream(result, _iterate(call, adapter, iter(result)))
    adapter.on_response(call, result)
    call.__exit__(None, None, None)
    return result


async def _settle_async(call: LLMCall, adapter: Adapter, pending: Awaitable[Any], stream: bool) -> Any:
    try:
        result = await pending
    except BaseException as exc:
        _fail(call, adapter, exc)
        raise
    return _settle(call, adapter, result, stream)


def wrap(method: Callable[..., Any], inst: Instruments, adapter: Adapter, operation: str,
         server: Server | None = None) -> Callable[..., Any]:
    """``method`` with every call to ``server`` recorded as one LLM operation named ``operation``."""

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        call = inst.llm_call(provider=adapter.provider, model=_model(args, kwargs), operation=operation,
                             server=server)
        call.__enter__()
        try:
            result = method(*args, **kwargs)
        except BaseException as exc:
            _fail(call, adapter, exc)
            raise
        stream = bool(kwargs.get("stream"))
        if inspect.isawaitable(result):
            return _settle_async(call, adapter, result, stream)
        return _settle(call, adapter, result, stream)

    wrapped.__llm_sre_wrapped__ = True  # type: ignore[attr-defined]
    return wrapped


def patch(target: Any, methods: dict[str, str], inst: Instruments, adapter: Adapter,
          server: Server | None = None) -> None:
    """Replace ``target.<name>`` by its wrapped version for each name → operation; idempotent."""
    for name, operation in methods.items():
        method = getattr(target, name, None)
        if method is None or getattr(method, "__llm_sre_wrapped__", False):
            continue
        setattr(target, name, wrap(method, inst, adapter, operation, server))
