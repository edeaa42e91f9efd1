"""The recorders behind :class:`~exporters.instrument.Instruments`: one object per timed operation.

Each is a sync and async context manager and, called on a function, a decorator that creates a
fresh recorder per call. They only collect what the caller reports and hand it to the
``Instruments.record_*`` methods when the block ends, so the recording logic lives in one place.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from exporters.instrument import Instruments, Server

F = TypeVar("F", bound=Callable[..., Any])


class _Recorder:
    """Times a block; sync/async context manager, and a decorator that makes a fresh one per call.

    As a decorator, the wrapped function's return value is offered to ``_result`` so the recorder
    can read what it needs (token usage, document count, hit or miss) without extra code.
    """

    def __init__(self, inst: Instruments, **params: Any) -> None:
        self._inst = inst
        self._params = params
        self._start = 0.0

    def __enter__(self) -> Self:
        self._start = self._inst.clock()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._finish(self._inst.clock() - self._start, exc)

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: object) -> None:
        self.__exit__(exc_type, exc, tb)

    def elapsed(self) -> float:
        return self._inst.clock() - self._start

    def _fresh(self) -> Self:
        return type(self)(self._inst, **self._params)

    def _result(self, value: Any) -> None:
        """Hook for decorators: inspect the wrapped function's return value."""

    def _finish(self, duration: float, exc: BaseException | None) -> None:
        raise NotImplementedError

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh() as rec:
                    value = await func(*args, **kwargs)
                    rec._result(value)
                    return value
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh() as rec:
                value = func(*args, **kwargs)
                rec._result(value)
                return value
        return wrapper  # type: ignore[return-value]


def tokens_from_response(response: Any) -> tuple[int | None, int | None]:
    """(input, output) token counts from an Ollama or OpenAI-style response object or dict."""

    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)

    if get(response, "prompt_eval_count") is not None or get(response, "eval_count") is not None:
        return get(response, "prompt_eval_count"), get(response, "eval_count")
    usage = get(response, "usage")
    if usage is not None:
        return get(usage, "prompt_tokens"), get(usage, "completion_tokens")
    return None, None


class LLMCall(_Recorder):
    """One LLM request; see :class:`Instruments`."""

    def __init__(self, inst: Instruments, *, provider: str, model: str, operation: str,
                 server: Server | None = None) -> None:
        super().__init__(inst, provider=provider, model=model, operation=operation, server=server)
        self._input: int | None = None
        self._output: int | None = None
        self._ttfc: float | None = None
        self._last_chunk = 0.0
        self._gaps: list[float] = []
        self._response_model: str | None = None
        self._error: BaseException | int | str | None = None

    def tokens(self, input: int | None = None, output: int | None = None) -> None:
        if input is not None:
            self._input = input
        if output is not None:
            self._output = output

    def response_model(self, name: str | None) -> None:
        """The model that actually answered (``gen_ai.response.model``), when the server says."""
        if name:
            self._response_model = name

    def first_token(self) -> None:
        """Mark the first streamed token; later calls are ignored (see :meth:`output_chunk`)."""
        if self._ttfc is None:
            self._ttfc = self._last_chunk = self.elapsed()

    def output_chunk(self) -> None:
        """A streamed chunk with generated content arrived: the first sets the time to first
        chunk, each later one adds the time since the previous one (time per output chunk)."""
        if self._ttfc is None:
            self.first_token()
            return
        now = self.elapsed()
        self._gaps.append(now - self._last_chunk)
        self._last_chunk = now

    def error(self, error: BaseException | int | str) -> None:
        """Mark the call failed without raising (an HTTP status, an error class)."""
        self._error = error

    def server_timing(self, *, duration: float | None = None, time_to_first_token: float | None = None,
                      time_per_output_token: float | None = None) -> None:
        """Record the timings the server reported for this call (e.g. Ollama's nanosecond fields)."""
        self._inst.record_server_timing(
            **self._params, duration=duration, time_to_first_token=time_to_first_token,
            time_per_output_token=time_per_output_token, response_model=self._response_model,
        )

    def _result(self, value: Any) -> None:
        self.tokens(*tokens_from_response(value))
        model = value.get("model") if isinstance(value, Mapping) else getattr(value, "model", None)
        self.response_model(model if isinstance(model, str) else None)

    def _finish(self, duration: float, exc: BaseException | None) -> None:
        # An explicit error() (say, the HTTP status of the exception being raised) wins over the
        # exception's class name: it is the more useful label.
        self._inst.record_llm_call(
            **self._params, duration=duration, input_tokens=self._input, output_tokens=self._output,
            error=self._error if self._error is not None else exc, time_to_first_chunk=self._ttfc,
            chunk_gaps=self._gaps, response_model=self._response_model,
        )


class Retrieval(_Recorder):
    """One vector-store query. Report ``documents()``; zero documents counts as outcome ``empty``."""

    def __init__(self, inst: Instruments, *, service: str | None) -> None:
        super().__init__(inst, service=service)
        self._documents: int | None = None
        self._top: float | None = None
        self._context: int | None = None

    def documents(self, count: int, top_score: float | None = None,
                  context_tokens: int | None = None) -> None:
        self._documents, self._top, self._context = count, top_score, context_tokens

    def _result(self, value: Any) -> None:
        if hasattr(value, "__len__"):
            self.documents(len(value))

    def _finish(self, duration: float, exc: BaseException | None) -> None:
        self._inst.record_retrieval(duration=duration, documents=self._documents, top_score=self._top,
                                    context_tokens=self._context, failed=exc is not None, **self._params)


class Rerank(_Recorder):
    """One rerank step: ``applied`` unless ``skip()`` or ``fallback()`` is called or it raises."""

    def __init__(self, inst: Instruments, *, model: str, service: str | None) -> None:
        super().__init__(inst, model=model, service=service)
        self._outcome = "applied"

    def skip(self) -> None:
        self._outcome = "skipped"

    def fallback(self) -> None:
        self._outcome = "fallback"

    def _finish(self, duration: float, exc: BaseException | None) -> None:
        outcome = "fallback" if exc is not None else self._outcome
        # A skipped rerank did no work: its duration would only drag the latency histogram down.
        self._inst.record_rerank(outcome=outcome, duration=None if outcome == "skipped" else duration,
                                 **self._params)


class CacheLookup(_Recorder):
    """One cache lookup: a miss unless ``hit()`` is called (decorator: a non-None result is a hit)."""

    def __init__(self, inst: Instruments, *, cache: str) -> None:
        super().__init__(inst, cache=cache)
        self._hit = False

    def hit(self, hit: bool = True) -> None:
        self._hit = hit

    def miss(self) -> None:
        self._hit = False

    def _result(self, value: Any) -> None:
        self.hit(value is not None)

    def _finish(self, duration: float, exc: BaseException | None) -> None:
        self._inst.record_cache(self._params["cache"], hit=self._hit and exc is None, duration=duration)
