"""A logging handler that ships masked JSON records to Loki without blocking the application.

Why not python-logging-loki: its 0.3.1 release (2019, unmaintained) does one synchronous POST per
record with no timeout, batching or retry, stamps records at send time, turns ``extra`` tags into
labels and loses its queue at exit (REFERENCE §4). Wrapping it would mean replacing all of that,
so this module is the whole handler, kept small:

* ``emit`` formats and masks on the caller's thread, then appends to a bounded buffer and
  returns; a full buffer drops the record and counts it (``llm_sre_loki_records_dropped_total
  {reason="queue_full"}``) - logging must never stall a request.
* One daemon thread pushes batches (by count, bytes or ``batch_wait`` seconds) as gzipped JSON to
  ``POST /loki/api/v1/push``, retrying 429/5xx/connection errors with capped exponential backoff
  and honouring ``Retry-After``; other 4xx are final (the batch is malformed, retrying repeats it).
* ``close`` (run by ``logging.shutdown`` at interpreter exit) drains what it can within
  ``close_timeout`` and counts the rest as ``reason="shutdown"``.
* Timestamps come from ``record.created``; stream labels are only the handler's fixed ``labels``
  (service, env); trace/span ids travel as structured metadata, never labels.

Usage::

    handler = LokiHandler("http://loki:3100", labels={"service": "rag-api", "env": "prod"})
    logging.getLogger().addHandler(handler)
"""

from __future__ import annotations

import collections
import email.utils
import gzip
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import httpx
from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics
from exporters.jsonlog import JsonFormatter, record_trace_ids
from exporters.redact import redact

if TYPE_CHECKING:  # settings are only needed by from_settings; keep the handler importable alone
    from exporters.settings import ExporterSettings

log = logging.getLogger(__name__)
PUSH_PATH = "/loki/api/v1/push"
WORKER_THREAD = "loki-handler"
_TRUNCATED = "…[truncated]"


@dataclass(frozen=True)
class LokiOptions:
    """Tuning knobs; defaults suit one app process sending to one Loki."""

    queue_size: int = 10_000
    batch_size: int = 1_000
    batch_bytes: int = 1_000_000
    batch_wait: float = 1.0
    timeout: float = 5.0
    max_retries: int = 8
    backoff: float = 0.5
    max_backoff: float = 30.0
    close_timeout: float = 5.0
    # Loki's default max_line_size is 256 KB; longer lines are rejected, so we cut them first.
    max_line_bytes: int = 256 * 1024 - 1024
    metadata_fields: Sequence[str] = ("trace_id", "span_id", "level")
    structured_metadata: bool = True
    tenant: str | None = None
    # Basic auth (Grafana Cloud, an auth proxy); kept out of repr so it never reaches a log.
    auth: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Entry:
    ns: str
    line: str
    metadata: dict[str, str]


class LokiHandler(logging.Handler):
    """Batches records in memory and pushes them to Loki from a background thread."""

    def __init__(
        self,
        url: str,
        labels: Mapping[str, str],
        options: LokiOptions | None = None,
        *,
        registry: CollectorRegistry | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__()
        self.url = url.rstrip("/") + PUSH_PATH
        self.labels = dict(labels)
        self.options = options or LokiOptions()
        self.setFormatter(JsonFormatter(service=self.labels.get("service", "app")))
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if self.options.tenant:
            headers["X-Scope-OrgID"] = self.options.tenant
        self._owns_client = client is None
        self._client = client or self._new_client()
        self._headers = headers
        m = metrics(registry)
        self._sent = m["llm_sre_loki_records_sent_total"]
        self._failures = m["llm_sre_loki_push_failures_total"]
        self._dropped = m["llm_sre_loki_records_dropped_total"]
        self._buffer: collections.deque[_Entry] = collections.deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._flushing = False
        self._backing_off = False
        self._closing = False
        self._deadline = float("inf")
        self._wake = threading.Event()
        self._worker = self._start_worker()
        # A handler created before gunicorn/uvicorn fork their workers would have no thread in
        # the children; restart it there. Weak, so closed or collected handlers do nothing.
        after_fork = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := after_fork()) and method())

    def _new_client(self) -> httpx.Client:
        return httpx.Client(timeout=self.options.timeout, auth=self.options.auth)

    def _start_worker(self) -> threading.Thread:
        worker = threading.Thread(target=self._run, name=WORKER_THREAD, daemon=True)
        worker.start()
        return worker

    def _after_fork(self) -> None:
        if self._closing:
            return
        # The parent still owns (and will push) what it had buffered; sharing its HTTP
        # connections would interleave bytes on one socket, so the child gets its own client.
        self._buffer.clear()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._wake = threading.Event()
        if self._owns_client:
            self._client = self._new_client()
        self._worker = self._start_worker()

    @classmethod
    def from_settings(cls, settings: ExporterSettings, **kwargs: Any) -> LokiHandler:
        """A handler configured from ``LOKI_*`` variables; requires ``LOKI_URL``."""
        if not settings.loki_url:
            raise ValueError("LOKI_URL is not set")
        options = LokiOptions(
            queue_size=settings.loki_queue_size,
            batch_size=settings.loki_batch_size,
            batch_wait=settings.loki_batch_wait_seconds,
            timeout=settings.loki_timeout_seconds,
            max_retries=settings.loki_max_retries,
            structured_metadata=settings.loki_structured_metadata,
            tenant=settings.loki_tenant,
            auth=basic_auth(settings),
        )
        labels = {"service": settings.service, "env": settings.loki_env}
        return cls(settings.loki_url, labels, options, **kwargs)

    # --- application thread ------------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        # Records logged by the worker itself (httpx request logs, say) would feed back forever.
        if threading.current_thread() is self._worker:
            return
        try:
            entry = self._entry(record)
        except Exception:
            self.handleError(record)
            return
        with self._cond:
            if self._closing:
                self._drop("shutdown")
                return
            if len(self._buffer) >= self.options.queue_size:
                self._drop("queue_full")
                return
            self._buffer.append(entry)
            if len(self._buffer) >= self.options.batch_size:
                self._cond.notify_all()

    def _entry(self, record: logging.LogRecord) -> _Entry:
        if isinstance(self.formatter, JsonFormatter):
            fields = self.formatter.to_dict(record)
            line = json.dumps(fields, ensure_ascii=False)
        else:  # a user-chosen formatter: mask its output as text
            trace_id, span_id = record_trace_ids(record)
            fields = {"trace_id": trace_id, "span_id": span_id, "level": record.levelname.lower()}
            line = redact(self.format(record))
        metadata = {}
        if self.options.structured_metadata:
            metadata = {k: str(fields[k]) for k in self.options.metadata_fields if fields.get(k)}
        return _Entry(str(int(record.created * 1_000_000_000)), self._fit(line), metadata)

    def _fit(self, line: str) -> str:
        raw = line.encode()
        if len(raw) <= self.options.max_line_bytes:
            return line
        keep = self.options.max_line_bytes - len(_TRUNCATED.encode())
        return raw[:keep].decode(errors="ignore") + _TRUNCATED

    def flush(self) -> None:
        """Wait (bounded by ``close_timeout``) until everything queued so far has been pushed.

        Returns early while Loki is failing (the worker is backing off): waiting would not help,
        and ``logging.shutdown`` calls this before ``close`` at every interpreter exit.
        """
        deadline = time.monotonic() + self.options.close_timeout
        with self._cond:
            self._flushing = True
            self._cond.notify_all()
            while (self._buffer or self._in_flight) and self._worker.is_alive() and not self._backing_off:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._flushing = False

    def close(self) -> None:
        """Drain within ``close_timeout``; what is still queued after that is counted as dropped."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._deadline = time.monotonic() + self.options.close_timeout
            self._cond.notify_all()
        self._wake.set()
        self._worker.join(self.options.close_timeout + 1)
        with self._cond:
            self._drop("shutdown", len(self._buffer))
            self._buffer.clear()
        self._client.close()
        super().close()

    # --- worker thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._batch_ready, timeout=self.options.batch_wait)
                if self._closing and time.monotonic() >= self._deadline:
                    return  # close() counts what is left
                batch = self._take()
                if not batch and self._closing:
                    return
                self._in_flight = len(batch)
            try:
                if batch:
                    self._push(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _batch_ready(self) -> bool:
        return len(self._buffer) >= self.options.batch_size or self._closing or self._flushing

    def _take(self) -> list[_Entry]:
        batch: list[_Entry] = []
        size = 0
        while self._buffer and len(batch) < self.options.batch_size and size < self.options.batch_bytes:
            entry = self._buffer.popleft()
            batch.append(entry)
            size += len(entry.line)
        return batch

    def _body(self, batch: list[_Entry]) -> bytes:
        values = [[e.ns, e.line, e.metadata] if e.metadata else [e.ns, e.line] for e in batch]
        payload = {"streams": [{"stream": self.labels, "values": values}]}
        return gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), compresslevel=5)

    def _push(self, batch: list[_Entry]) -> None:
        body = self._body(batch)
        for attempt in range(self.options.max_retries + 1):
            try:
                response = self._client.post(self.url, content=body, headers=self._headers)
            except httpx.HTTPError:
                delay = self._backoff(attempt)
            else:
                if response.status_code < 300:
                    self._sent.inc(len(batch))
                    return
                if response.status_code != 429 and response.status_code < 500:
                    self._failures.inc()
                    self._drop("rejected", len(batch))
                    # Logged from this thread, so this handler skips it; other handlers show it.
                    log.warning("Loki rejected %d records (HTTP %d): %s", len(batch), response.status_code,
                                redact(response.text[:300]))
                    return
                delay = retry_after(response.headers.get("Retry-After")) or self._backoff(attempt)
            self._failures.inc()
            if attempt == self.options.max_retries:
                break
            if not self._sleep(delay):
                self._drop("shutdown", len(batch))
                return
        self._drop("retries_exhausted", len(batch))
        log.warning("Loki push failed %d times; dropped %d records", self.options.max_retries + 1, len(batch))

    def _backoff(self, attempt: int) -> float:
        # Full jitter: many app replicas recovering from one Loki outage should not retry in step.
        return random.uniform(0.5, 1.0) * min(self.options.max_backoff, self.options.backoff * 2**attempt)

    def _sleep(self, delay: float) -> bool:
        """Sleep ``delay`` unless shutting down past the close deadline; False if out of time."""
        if self._closing:
            delay = min(delay, self._deadline - time.monotonic())
            if delay <= 0:
                return False
            time.sleep(delay)
            return True
        with self._cond:  # let a waiting flush() know: no progress until Loki answers again
            self._backing_off = True
            self._cond.notify_all()
        self._wake.wait(delay)
        with self._cond:
            self._backing_off = False
        return not self._closing or time.monotonic() < self._deadline

    def _drop(self, reason: str, count: int = 1) -> None:
        if count:
            self._dropped.labels(reason=reason).inc(count)


def basic_auth(settings: ExporterSettings) -> tuple[str, str] | None:
    """``LOKI_USERNAME``/``LOKI_PASSWORD`` as an httpx auth tuple, or None."""
    if not settings.loki_username:
        return None
    password = settings.loki_password.get_secret_value() if settings.loki_password else ""
    return settings.loki_username, password


def query_client(settings: ExporterSettings) -> httpx.Client:
    """An HTTP client for reading from Loki with the same tenant and credentials as shipping."""
    headers = {"X-Scope-OrgID": settings.loki_tenant} if settings.loki_tenant else {}
    return httpx.Client(timeout=settings.loki_timeout_seconds, auth=basic_auth(settings), headers=headers)


def retry_after(value: str | None, cap: float = 300.0) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") raises
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), cap)


def _quiet_worker(record: logging.LogRecord) -> bool:
    """Drop httpx's per-push INFO lines from the shipping thread; keep its warnings."""
    return record.threadName != WORKER_THREAD or record.levelno >= logging.WARNING


def setup_logging(
    settings: ExporterSettings, *, level: int = logging.INFO, stream: TextIO | None = None
) -> LokiHandler | None:
    """One call at process start: masked JSON lines on stderr and, with ``LOKI_URL`` set, to Loki.

    Returns the Loki handler (or None) so tests and shutdown code can flush it; at interpreter
    exit ``logging.shutdown`` closes it anyway.
    """
    console = logging.StreamHandler(stream)
    console.setFormatter(JsonFormatter(service=settings.service))
    console.addFilter(_quiet_worker)
    handlers: list[logging.Handler] = [console]
    loki = LokiHandler.from_settings(settings) if settings.loki_url else None
    if loki is not None:
        handlers.append(loki)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in handlers:
        root.addHandler(handler)
    return loki
