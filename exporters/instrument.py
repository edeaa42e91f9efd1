"""Record LLM calls, retrievals, reranks and cache lookups into the catalogue's metrics.

Every recorder works as a sync or async context manager and as a decorator::

    from exporters.instrument import Instruments
    inst = Instruments()                      # default prometheus-client REGISTRY; one per registry

    with inst.llm_call(provider="ollama", model="qwen2.5:7b", operation="chat",
                       server=Server.from_url("http://ollama:11434")) as call:
        call.output_chunk()                   # streaming: each content chunk (first = time to first chunk)
        call.tokens(input=12, output=30)
        call.response_model("qwen2.5:7b-instruct-q4_K_M")
        call.error("429")                     # a failure without an exception (HTTP status)

    async with inst.retrieval(service="rag") as r:
        docs = await store.search(q)
        r.documents(len(docs), top_score=docs[0].score if docs else None)

    @inst.cache_lookup("embedding")           # decorator: a None result counts as a miss
    def cached_embedding(text): ...

An exception inside the block is recorded (``error_type`` = its class name) and re-raised. Label
values from callers are bounded (:mod:`exporters.labels`), so a model path or a stray status
text cannot explode the series count. When an OTLP mirror is attached (``exporters.otlp``),
every observation is also sent as an OpenTelemetry metric.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from opentelemetry import trace
from prometheus_client import CollectorRegistry

from exporters.catalogue import GENAI, metrics
from exporters.handles import Handle, RecorderHandles
from exporters.labels import BoundedLabel, enum_label, error_type, normalise_model
from exporters.recorders import CacheLookup, LLMCall, Rerank, Retrieval, tokens_from_response
from exporters.settings import ExporterSettings, get_settings

__all__ = ["CacheLookup", "Instruments", "LLMCall", "Mirror", "Rerank", "Retrieval", "Server", "default",
           "tokens_from_response"]


# OTel gen_ai.operation.name well-known values; anything else is folded into _OTHER.
OPERATIONS = ("chat", "text_completion", "embeddings", "generate_content", "execute_tool", "create_agent",
              "invoke_agent")
# OTel gen_ai.provider.name values plus the self-hosted servers this project targets.
PROVIDERS = ("ollama", "vllm", "llama.cpp", "openai", "anthropic", "azure.ai.openai", "aws.bedrock",
             "gcp.vertex_ai", "gcp.gemini", "mistral_ai", "cohere", "groq", "deepseek", "x_ai", "huggingface")


def current_trace_exemplar() -> dict[str, str] | None:
    """``{trace_id, span_id}`` of the active OpenTelemetry span, if there is one."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


@dataclass(frozen=True)
class Server:
    """The model server a call went to: the convention's ``server.address`` and ``server.port``.

    It is the host the application is configured with (``ollama``, ``vllm.internal``), never a
    caller's address; bounded per process like every open label.
    """

    address: str = ""
    port: int | None = None

    @classmethod
    def from_url(cls, url: object) -> Server:
        """From a base URL (``http://vllm:8000/v1``, an ``httpx.URL``); the scheme's port if none."""
        parsed = urlsplit(str(url or ""))
        if not parsed.hostname:
            return cls()
        default = {"http": 80, "https": 443}.get(parsed.scheme)
        return cls(parsed.hostname, parsed.port or default)


class Mirror(Protocol):
    """Receives every observation as (catalogue name, value, labels); see ``exporters.otlp``."""

    def record(self, name: str, value: float, labels: Mapping[str, str]) -> None: ...


class Instruments:
    """Recorders bound to one registry. Create one per registry and share it (it is thread-safe)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        service: str = "app",
        max_models: int = 30,
        max_values: int = 20,
        clock: Callable[[], float] = time.perf_counter,
        mirror: Mirror | None = None,
    ) -> None:
        self.metrics = metrics(registry)
        self.handles = RecorderHandles.create(self.metrics)
        self.service = service
        self.clock = clock
        self.mirror = mirror
        self.provider_label = BoundedLabel(PROVIDERS, limit=5)
        self.model_label = BoundedLabel(limit=max_models)
        self.operation_label = BoundedLabel(OPERATIONS)
        self.error_label = BoundedLabel(limit=max_values)
        # The model server(s) the app is configured to call: a handful of host names per process.
        self.server_label = BoundedLabel(limit=max_values)
        # Each open label has its own budget, so many caches cannot crowd out services.
        self.service_label = BoundedLabel(limit=max_values)
        self.cache_label = BoundedLabel(limit=max_values)
        self.metric_label = BoundedLabel(limit=max_values)
        self.rerank_label = BoundedLabel(limit=max_values)
        # Resolving label children is the costly part of prometheus-client; label sets are bounded,
        # so caching the children is safe and keeps per-call overhead near bare observe()/inc().
        self._children: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        self._lock = threading.Lock()

    # --- low-level recording -------------------------------------------------------------------
    # ``metric`` is a typed handle (``self.handles.llm_calls``); a catalogue name is accepted for
    # components that record metrics of their own through these helpers (the trace tailer).
    def _child(self, metric: Handle | str, labels: Mapping[str, str]) -> Any:
        name = metric.name if isinstance(metric, Handle) else metric
        key = (name, tuple(labels.items()))
        child = self._children.get(key)
        if child is None:
            with self._lock:
                wrapper = metric.metric if isinstance(metric, Handle) else self.metrics[metric]
                child = wrapper.labels(**labels) if labels else wrapper
                self._children[key] = child
        return child

    def _mirror(self, metric: Handle | str, value: float, labels: Mapping[str, str]) -> None:
        if self.mirror is not None:
            self.mirror.record(metric.name if isinstance(metric, Handle) else metric, value, labels)

    def observe(self, metric: Handle | str, value: float, /, **labels: str) -> None:
        self._child(metric, labels).observe(value)
        self._mirror(metric, value, labels)

    def inc(self, metric: Handle | str, amount: float = 1.0, /, **labels: str) -> None:
        self._child(metric, labels).inc(amount)
        self._mirror(metric, amount, labels)

    def set(self, metric: Handle | str, value: float, /, **labels: str) -> None:
        self._child(metric, labels).set(value)
        self._mirror(metric, value, labels)

    # --- one-shot records (used by the recorders, the trace tailer and client wrappers) --------
    def genai_labels(self, provider: str, model: str, operation: str, *, response_model: str | None = None,
                     server: Server | None = None) -> dict[str, str]:
        """The attribute set every GenAI instrument shares (catalogue ``GENAI_COMMON``).

        What the caller does not know is ``""``, which Prometheus treats as an absent label.
        """
        server = server or Server()
        response = self.model_label(normalise_model(response_model)) if response_model else ""
        return {
            "gen_ai_operation_name": self.operation_label(operation),
            "gen_ai_provider_name": self.provider_label(provider),
            "gen_ai_request_model": self.model_label(normalise_model(model)),
            "gen_ai_response_model": response,
            "server_address": self.server_label(server.address) if server.address else "",
            "server_port": str(server.port) if server.address and server.port else "",
        }

    def _error_label(self, error: BaseException | int | str | None) -> str:
        return self.error_label(error_type(error)) if error else ""

    def record_llm_call(
        self,
        *,
        provider: str,
        model: str,
        operation: str = "chat",
        duration: float,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        error: BaseException | int | str | None = None,
        time_to_first_chunk: float | None = None,
        chunk_gaps: Sequence[float] = (),
        response_model: str | None = None,
        server: Server | None = None,
    ) -> None:
        """Record one finished LLM call (the context manager and the trace tailer end here).

        ``chunk_gaps`` are the times between consecutive streamed chunks after the first; each is
        one observation of the time-per-output-chunk histogram, as the convention defines it.
        """
        base = self.genai_labels(provider, model, operation, response_model=response_model, server=server)
        err = self._error_label(error)
        labels = {**base, "error_type": err}
        # The trace of the current span rides along as an exemplar (OpenMetrics scrapes only), so
        # a slow bucket in Grafana links to the request that filled it.
        exemplar = current_trace_exemplar()
        h = self.handles
        self._child(h.genai_duration, labels).observe(duration, exemplar)
        calls = {name: base[name] for name in GENAI[:3]} | {"error_type": err}
        self._child(h.llm_calls, calls).inc(1.0, exemplar)
        self._mirror(h.genai_duration, duration, labels)
        self._mirror(h.llm_calls, 1.0, calls)
        if time_to_first_chunk is not None:
            self.observe(h.genai_ttfc, time_to_first_chunk, **base)
        for gap in chunk_gaps:
            self.observe(h.genai_tpoc, gap, **base)
        for token_type, count in (("input", input_tokens), ("output", output_tokens)):
            if count is None:
                continue
            self.observe(h.genai_tokens, count, **base, gen_ai_token_type=token_type)
            self.inc(h.llm_tokens, count, gen_ai_provider_name=base["gen_ai_provider_name"],
                     gen_ai_request_model=base["gen_ai_request_model"], gen_ai_token_type=token_type)

    def record_server_timing(
        self,
        *,
        provider: str,
        model: str,
        operation: str = "chat",
        duration: float | None = None,
        time_to_first_token: float | None = None,
        time_per_output_token: float | None = None,
        error: BaseException | int | str | None = None,
        response_model: str | None = None,
        server: Server | None = None,
    ) -> None:
        """Record the server's own timings (e.g. Ollama's nanosecond fields) for one request.

        The token timings describe successful responses only (the convention's definition), so a
        failed request records its duration and nothing else.
        """
        h = self.handles
        labels = self.genai_labels(provider, model, operation, response_model=response_model, server=server)
        if duration is not None:
            self.observe(h.genai_server_duration, duration, **labels, error_type=self._error_label(error))
        if error:
            return
        if time_to_first_token is not None:
            self.observe(h.genai_server_ttft, time_to_first_token, **labels)
        if time_per_output_token is not None:
            self.observe(h.genai_server_tpot, time_per_output_token, **labels)

    def record_retrieval(
        self,
        *,
        duration: float,
        documents: int | None,
        top_score: float | None = None,
        context_tokens: int | None = None,
        failed: bool = False,
        service: str | None = None,
    ) -> None:
        svc = self.service_label(service or self.service)
        outcome = "error" if failed else ("empty" if documents == 0 else "hit")
        self.inc(self.handles.rag_retrievals, service=svc, outcome=outcome)
        self.observe(self.handles.rag_duration, duration, service=svc)
        if documents is not None and not failed:
            self.observe(self.handles.rag_documents, documents, service=svc)
        if top_score is not None:
            self.observe(self.handles.rag_top_score, min(max(top_score, 0.0), 1.0), service=svc)
        if context_tokens is not None:
            self.observe(self.handles.rag_context_tokens, context_tokens, service=svc)

    def record_rerank(self, *, outcome: str, duration: float | None, model: str = "",
                      service: str | None = None) -> None:
        svc = self.service_label(service or self.service)
        self.inc(self.handles.rag_reranks, service=svc,
                 outcome=enum_label(outcome, ("applied", "skipped", "fallback"), "rerank outcome"))
        if duration is not None:
            self.observe(self.handles.rag_rerank_duration, duration, service=svc,
                         rerank_model=self.rerank_label(normalise_model(model)))

    def record_cache(self, cache: str, *, hit: bool, duration: float | None = None) -> None:
        name = self.cache_label(cache)
        self.inc(self.handles.cache_requests, cache=name, result="hit" if hit else "miss")
        if duration is not None:
            self.observe(self.handles.cache_duration, duration, cache=name)

    def cache_entries(self, cache: str, entries: int) -> None:
        self.set(self.handles.cache_entries, entries, cache=self.cache_label(cache))

    def cache_evicted(self, cache: str, count: int = 1) -> None:
        self.inc(self.handles.cache_evictions, count, cache=self.cache_label(cache))

    def eval_score(self, metric: str, score: float) -> None:
        """An evaluation or grounding score; clamped to 0..1 so the buckets stay meaningful."""
        self.observe(self.handles.eval_score, min(max(score, 0.0), 1.0), metric=self.metric_label(metric))

    # --- recorders (context managers and decorators) --------------------------------------------
    def llm_call(self, *, provider: str, model: str, operation: str = "chat",
                 server: Server | None = None) -> LLMCall:
        return LLMCall(self, provider=provider, model=model, operation=operation, server=server)

    def retrieval(self, service: str | None = None) -> Retrieval:
        return Retrieval(self, service=service)

    def rerank(self, model: str = "", service: str | None = None) -> Rerank:
        return Rerank(self, model=model, service=service)

    def cache_lookup(self, cache: str) -> CacheLookup:
        return CacheLookup(self, cache=cache)


_default: Instruments | None = None
_default_lock = threading.Lock()


def otlp_mirror_from_env() -> Mirror | None:
    """An OTLP mirror when the standard ``OTEL_EXPORTER_OTLP_*`` endpoint variables ask for one."""
    if not get_settings().otlp_endpoint:
        return None
    from exporters.otlp import OtlpMirror  # imported only when used: the SDK is slow to import

    return OtlpMirror.http()  # the SDK reads the endpoint and the other OTEL_* variables itself


def default() -> Instruments:
    """The process-wide :class:`Instruments` on prometheus-client's default registry.

    Configured from the environment (:mod:`exporters.settings`); it mirrors to OTLP when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``…_METRICS_ENDPOINT``) is set.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = from_settings()
        return _default


def from_settings(registry: CollectorRegistry | None = None,
                  settings: ExporterSettings | None = None) -> Instruments:
    """Instruments with the service name, label budgets and OTLP switch the environment sets."""
    settings = settings or get_settings()
    return Instruments(registry, service=settings.service, max_models=settings.max_models,
                       max_values=settings.max_label_values, mirror=otlp_mirror_from_env())


def llm_call(*, provider: str, model: str, operation: str = "chat", server: Server | None = None) -> LLMCall:
    return default().llm_call(provider=provider, model=model, operation=operation, server=server)


def retrieval(service: str | None = None) -> Retrieval:
    return default().retrieval(service)


def rerank(model: str = "", service: str | None = None) -> Rerank:
    return default().rerank(model, service)


def cache_lookup(cache: str) -> CacheLookup:
    return default().cache_lookup(cache)
