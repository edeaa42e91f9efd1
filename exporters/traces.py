"""The JSONL trace sidecar: turn the trace files an app writes into the catalogue's metrics.

One JSON object per line, with an ``event`` field (``type`` is accepted too) and an optional
``ts`` (Unix seconds or ISO 8601)::

    {"event": "llm.call", "model": "qwen2.5:7b", "provider": "ollama", "success": true,
     "latency_ms": 812, "prompt_tokens": 410, "completion_tokens": 96}
    {"event": "llm.call", "model": "qwen2.5:7b", "success": false, "latency_ms": 30000,
     "error": "ReadTimeout"}
    {"event": "rag.retrieve", "hits": 4, "topk": 5, "rerank_enabled": true,
     "rerank_model": "bge-reranker-v2-m3", "latency_ms": 35}
    {"event": "ollama.usage", "kind": "embedding", "model": "nomic-embed-text", "count": 8,
     "latency_ms": 40}
    {"event": "embed.cache", "key": "…", "hit": true}

Lines that are not JSON, not objects, or lack a required field are counted in
``llm_sre_trace_malformed_lines_total{reason}`` and skipped; unknown events are counted as
``event="_OTHER"``. Keys, prompts and error messages never become labels.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from exporters.catalogue import OVERFLOW, SPECS
from exporters.instrument import Instruments
from exporters.labels import enum_label, error_type, normalise_model
from exporters.rollup import Rollup
from exporters.tailer import JsonlTailer

EVENTS = SPECS["llm_sre_trace_events_total"].values["event"]


class BadField(ValueError):
    """A required field is missing or has the wrong type."""


def _number(event: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = event.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadField(key)
    return float(value)


def _optional_int(event: Mapping[str, Any], key: str) -> int | None:
    return None if event.get(key) is None else int(_number(event, key))


def _timestamp(event: Mapping[str, Any], now: float) -> float:
    """The event's own time if it has a usable one, else the time we read it.

    Never later than ``now``: an app whose clock runs ahead would otherwise keep its events in
    every rolling window until our clock caught up.
    """
    ts = event.get("ts", event.get("timestamp"))
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return min(now, float(ts) / 1000.0 if ts > 1e12 else float(ts))  # milliseconds, sometimes
    if isinstance(ts, str):
        try:
            return min(now, datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return now
    return now


class TraceEvents:
    """Applies parsed trace events to the instruments and the rolling aggregates."""

    def __init__(self, inst: Instruments, rollup: Rollup | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.inst = inst
        self.rollup = rollup
        self.clock = clock

    def handle_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            event = json.loads(line)
        except ValueError:  # also UnicodeDecodeError
            return self.malformed("invalid_json")
        if not isinstance(event, dict):
            return self.malformed("not_object")
        name = event.get("event", event.get("type"))
        handler = self._handlers().get(name) if isinstance(name, str) else None
        try:
            if handler is not None:
                handler(event, _timestamp(event, self.clock()))
        except (BadField, ValueError, TypeError):
            return self.malformed("bad_field")
        self.inst.inc("llm_sre_trace_events_total", event=name if name in EVENTS else OVERFLOW)

    def malformed(self, reason: str) -> None:
        self.inst.inc("llm_sre_trace_malformed_lines_total", reason=reason)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], float], None]]:
        return {"llm.call": self._llm_call, "rag.retrieve": self._retrieve,
                "ollama.usage": self._ollama_usage, "embed.cache": self._embed_cache}

    def _llm_call(self, e: dict[str, Any], ts: float) -> None:
        latency_ms = _number(e, "latency_ms")
        error = e.get("error")
        success = e.get("success", not error)
        if not isinstance(success, bool):
            raise BadField("success")
        failure: str | None = None
        if not success:
            # A message is not a label: keep it only if it looks like a class name or status.
            failure = error_type(str(error)) if error else OVERFLOW
        self.inst.record_llm_call(
            provider=str(e.get("provider") or "unknown"), model=str(e.get("model") or ""),
            operation=str(e.get("operation") or "chat"), duration=latency_ms / 1000.0,
            input_tokens=_optional_int(e, "prompt_tokens"),
            output_tokens=_optional_int(e, "completion_tokens"), error=failure,
        )
        if self.rollup is not None:
            self.rollup.llm(ts, success, latency_ms)

    def _retrieve(self, e: dict[str, Any], ts: float) -> None:
        hits = int(_number(e, "hits"))
        latency = _number(e, "latency_ms") / 1000.0
        failed = bool(e.get("error"))
        score = e.get("top_score")
        self.inst.record_retrieval(
            duration=latency, documents=hits, failed=failed, service=e.get("service"),
            top_score=_number(e, "top_score") if score is not None else None,
            context_tokens=_optional_int(e, "context_tokens"),
        )
        reranked = bool(e.get("rerank_enabled")) and hits > 0 and not failed
        self.inst.record_rerank(outcome="applied" if reranked else "skipped", duration=None,
                                model=str(e.get("rerank_model") or ""), service=e.get("service"))
        if self.rollup is not None:
            self.rollup.rag(ts, hits > 0 and not failed, reranked)

    def _ollama_usage(self, e: dict[str, Any], ts: float) -> None:
        kind = enum_label(str(e.get("kind")), ("llm", "embedding"), "ollama.usage kind")
        count, latency = _number(e, "count", 1), _number(e, "latency_ms") / 1000.0
        model = self.inst.model_label(normalise_model(e.get("model")))
        self.inst.inc("llm_sre_ollama_requests_total", kind=kind, gen_ai_request_model=model)
        self.inst.inc("llm_sre_ollama_request_items_total", count, kind=kind, gen_ai_request_model=model)
        self.inst.observe("llm_sre_ollama_request_duration_seconds", latency, kind=kind)

    def _embed_cache(self, e: dict[str, Any], ts: float) -> None:
        hit = e.get("hit")
        if not isinstance(hit, bool):
            raise BadField("hit")
        self.inst.record_cache(str(e.get("cache") or "embedding"), hit=hit)
        if self.rollup is not None:
            self.rollup.cache(ts, hit)


class TraceSource:
    """Sidecar source: tail ``trace_dir``, apply events, refresh ``data/metrics/*.json``.

    State (offsets, aggregates) lives under ``data_dir``; nothing is created in ``trace_dir``.
    """

    name = "traces"

    def __init__(self, inst: Instruments, trace_dir: Path, data_dir: Path, *, interval: float = 1.0,
                 aggregate_every: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.interval = interval
        state = data_dir / "exporter"
        self.tailer = JsonlTailer(trace_dir, state / "trace-offsets.json")
        self.rollup = Rollup(data_dir / "metrics", clock, state_path=state / "rollup-state.json")
        self.events = TraceEvents(inst, self.rollup, clock)
        self.clock = clock
        self._aggregate_every = aggregate_every
        self._next_aggregate = 0.0

    def poll(self) -> None:
        if self.tailer.folder.is_dir():
            for batch in self.tailer.read():
                for _ in range(batch.dropped):
                    self.events.malformed("invalid_json")
                for line in batch.lines:
                    self.events.handle_line(line)
        now = self.clock()
        if now >= self._next_aggregate:
            self.rollup.write()
            self._next_aggregate = now + self._aggregate_every
