"""A logging handler that ships masked JSON records to Loki and survives Loki outages and log storms.

Why not python-logging-loki: its 0.3.1 release (2019, unmaintained) does one synchronous POST per
record with no timeout, batching or retry, stamps records at send time, turns ``extra`` tags into
labels and loses its queue at exit (REFERENCE §4).

The fallback chain (docs/logs.md §2):

1. **memory** - ``emit`` samples (:mod:`exporters.sampling`), formats and masks on the caller's
   thread, appends to a buffer bounded in records and bytes and returns; it never waits for
   I/O. Past the byte bound only WARNING and above are still taken (up to twice the bound).
2. **spill** - when a push fails for a reason worth retrying (Loki down, slow, 5xx, 429) or the
   buffer passes its high-water mark (half of ``memory_bytes``), the worker writes the buffer to
   size-rotated JSON-lines segments (:mod:`exporters.spill`), dropping by priority only at the
   disk budget.
3. **self-healing** - while spilled data exists, new records go to the spill too (so each
   stream keeps its order); the worker probes ``/ready`` with backoff and then drains the
   segments oldest first at ``drain_bytes_per_second``, with the records' original timestamps.
4. **dead letters** - rejections a retry would not fix (too old, out of order, bad labels) are
   parked by cause (:mod:`exporters.dlq`); oversized batches are split and oversized lines cut.

``flush``/``close`` (``logging.shutdown`` at exit) push what they can within ``close_timeout``
and spill the rest; ``handle`` takes no handler lock, so the shipping thread's own log records
(httpx) can never wait on a ``logging.shutdown`` that holds it.

Usage::

    handler = LokiHandler("http://loki:3100", labels={"service": "rag-api", "env": "prod"},
                          options=LokiOptions(spill_dir=Path("/var/lib/app/spill")))
    logging.getLogger().addHandler(handler)
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import httpx
from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics
from exporters.dlq import DeadLetters
from exporters.failures import Failure
from exporters.jsonlog import JsonFormatter, record_trace_ids
from exporters.loki_options import LokiOptions, basic_auth, options_from_settings, query_client
from exporters.loki_push import Entry, Outcome, Pusher, fit, retry_after
from exporters.redact import MARKER_HEAD, new_secret_kinds, redact
from exporters.sampling import Sampler
from exporters.sampling_policy import PolicyWatcher
from exporters.spill import SpillStore, level_name

if TYPE_CHECKING:  # settings are only needed by from_settings; keep the handler importable alone
    from exporters.settings import ExporterSettings

__all__ = ["LokiHandler", "LokiOptions", "basic_auth", "options_from_settings", "query_client", "retry_after",
           "setup_logging"]

log = logging.getLogger(__name__)
WORKER_THREAD = "loki-handler"
_ENTRY_OVERHEAD = 64  # bytes of bookkeeping per buffered record, so tiny lines still count


class LokiHandler(logging.Handler):
    """Buffers records in memory, ships them from a background thread, spills when Loki is away."""

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
        self.base_url = url.rstrip("/")
        self.labels = dict(labels)
        self.options = options or LokiOptions()
        self.setFormatter(JsonFormatter(service=self.labels.get("service", "app")))
        self._registry = registry
        m = metrics(registry)
        self._sent = m["llm_sre_loki_records_sent_total"]
        self._dropped = m["llm_sre_loki_records_dropped_total"]
        self._spilled = m["llm_sre_loki_records_spilled_total"]
        self._spill_bytes = m["llm_sre_loki_spill_bytes"]
        self._secrets = m["llm_sre_log_secrets_total"]  # secrets masked out of shipped records
        sampled_out = m["llm_sre_loki_records_sampled_out_total"]
        self._sampled_out = {lv: sampled_out.labels(level=lv) for lv in ("debug", "info", "warning", "error",
                                                                        "critical")}
        self._owns_client = client is None
        self._client = client or self._new_client()
        self.pusher = Pusher(self._client, self.base_url, self.labels, tenant=self.options.tenant,
                             registry=registry)
        dlq_dir = self.options.dlq_dir or self.options.spill_dir.parent / "loki-dlq"
        self.dead_letters = DeadLetters(dlq_dir, registry)
        self.sampler: Sampler | None = None
        self.policy_watcher: PolicyWatcher | None = None
        if self.options.sampling is not None:
            rate_gauge = m["llm_sre_loki_sample_rate"]
            rate_gauge.set(1.0)
            self.sampler = Sampler(self.options.sampling, service=self.labels.get("service", "app"),
                                   on_rate=rate_gauge.set)
        self._init_state()
        self._start_threads()
        # A handler created before gunicorn/uvicorn fork their workers would have no thread in
        # the children; restart it there. Weak, so closed or collected handlers do nothing.
        after_fork = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := after_fork()) and method())

    def _init_state(self) -> None:
        self.store = SpillStore(self.options.spill_dir, self.labels, budget=self.options.budget,
                                segment_bytes=self.options.segment_bytes, fsync=self.options.fsync)
        self._buffer: collections.deque[Entry] = collections.deque()
        self._buffer_bytes = 0
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._in_flight = 0
        self._flushing = False
        self._closing = False
        self._deadline = float("inf")
        self._attempt = 0
        self._next_attempt = 0.0
        # Whatever a previous run left behind (adopted by the store) is sent before anything new.
        self._spilling = not self.store.empty()
        self._spill_bytes.set(self.store.bytes)

    def _start_threads(self) -> None:
        self._worker = threading.Thread(target=self._run, name=WORKER_THREAD, daemon=True)
        own = [self._worker]
        if self.sampler is not None and (self.options.policy_file or self.options.policy_redis_url):
            self.policy_watcher = PolicyWatcher(
                self.sampler, path=self.options.policy_file, redis_url=self.options.policy_redis_url,
                key=self.options.policy_redis_key, registry=self._registry)
            own.append(self.policy_watcher.thread)
            self.policy_watcher.start()
        self._own_threads = frozenset(own)
        self._worker.start()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(timeout=self.options.timeout, auth=self.options.auth)

    def _after_fork(self) -> None:
        if self._closing:
            return
        # The parent still owns (and will push) what it had buffered and spilled; sharing its
        # HTTP connections or segment files would interleave bytes, so the child gets its own.
        self.store.detach()
        if self._owns_client:
            self._client = self._new_client()
            self.pusher.client = self._client
        self._init_state()
        self._start_threads()

    @classmethod
    def from_settings(cls, settings: ExporterSettings, **kwargs: Any) -> LokiHandler:
        """A handler configured from ``LOKI_*`` variables; requires ``LOKI_URL``."""
        if not settings.loki_url:
            raise ValueError("LOKI_URL is not set")
        return cls(settings.loki_url, {"service": settings.service, "env": settings.loki_env},
                   options_from_settings(settings), **kwargs)

    # --- application thread ------------------------------------------------------------------

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        """Like ``Handler.handle`` without its lock: ``emit`` has its own, and ``logging.shutdown``
        holds the handler lock through ``flush``/``close`` - a record from the shipping thread
        (httpx logs each request) waiting for it would stall the exit by the whole timeout."""
        if threading.current_thread() in self._own_threads:
            return False  # our own threads' records would feed back into the buffer forever
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            rate = 1.0
            if self.sampler is not None:
                sampled = self.sampler.decide(record, self._buffer_bytes / self.options.memory_bytes)
                if sampled is None:
                    self._sampled_out[level_name(record.levelno)].inc()
                    return
                rate = sampled
            entry = self._entry(record, rate)
        except Exception:
            self.handleError(record)
            return
        size = len(entry.line) + _ENTRY_OVERHEAD
        limit = self.options.memory_bytes
        with self._cond:
            if self._closing:
                self._drop("shutdown", entry.level)
                return
            full = self._buffer_bytes + size > limit or len(self._buffer) >= self.options.queue_size
            if full and (record.levelno < logging.WARNING or self._buffer_bytes + size > 2 * limit):
                self._drop("memory_full", entry.level)
                return
            self._buffer.append(entry)
            self._buffer_bytes += size
            if len(self._buffer) >= self.options.batch_size or self._buffer_bytes >= self._high_water:
                self._cond.notify_all()

    def _entry(self, record: logging.LogRecord, rate: float) -> Entry:
        if isinstance(self.formatter, JsonFormatter):
            fields = self.formatter.to_dict(record)
            if rate < 1.0:
                fields["sample_rate"] = rate
            line = json.dumps(fields, ensure_ascii=False)
        else:  # a user-chosen formatter: mask its output as text
            trace_id, span_id = record_trace_ids(record)
            fields = {"trace_id": trace_id, "span_id": span_id, "level": record.levelname.lower()}
            if rate < 1.0:
                fields["sample_rate"] = str(rate)
            line = redact(self.format(record))
        if MARKER_HEAD in line:  # rare: only then is the raw record read again to tell what was masked
            self._count_secrets(record, line)
        metadata = {}
        if self.options.structured_metadata:
            metadata = {k: str(fields[k]) for k in self.options.metadata_fields if fields.get(k)}
        ns = str(int(record.created * 1_000_000_000))
        return Entry(ns, fit(line, self.options.max_line_bytes), metadata, record.levelno)

    def _count_secrets(self, record: logging.LogRecord, line: str) -> None:
        """Count the credentials masking took out of ``record``, by kind (issue 16: secrets seen in
        logs are a security finding); a marker the record already held is not counted."""
        raw = f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}"
        service = self.labels.get("service", "app")
        for kind, n in new_secret_kinds(raw, line).items():
            self._secrets.labels(service=service, kind=kind).inc(n)

    def flush(self) -> None:
        """Wait (bounded by ``close_timeout``) until everything queued so far has been pushed.

        Returns at once while Loki is failing (records are going to the spill): waiting would
        not help, and ``logging.shutdown`` calls this before ``close`` at every interpreter exit.
        """
        deadline = time.monotonic() + self.options.close_timeout
        with self._cond:
            self._flushing = True
            self._cond.notify_all()
            while (self._buffer or self._in_flight) and self._worker.is_alive() and not self._spilling:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._flushing = False

    def close(self) -> None:
        """Push within ``close_timeout``; spill what is still queued after that (sent at next start)."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._deadline = time.monotonic() + self.options.close_timeout
            self._cond.notify_all()
        self._wake.set()
        if self.policy_watcher is not None:
            self.policy_watcher.stop()
        self._worker.join(self.options.close_timeout + 1)
        self._spill_memory()  # normally empty: the worker spills before it exits
        self.store.close()
        self._spill_bytes.set(self.store.bytes)
        if self._owns_client:
            self._client.close()
        super().close()

    # --- worker thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._has_work, timeout=self._wait_time())
                if self._closing and (self._spilling or not self._buffer or self._past_deadline()):
                    break
            try:
                self._step()
            except Exception:  # a bug here must not end shipping; the record goes to other handlers
                log.exception("Loki shipping step failed")
                self._wake.wait(self.options.backoff)
        self._spill_memory()

    def _past_deadline(self) -> bool:
        return time.monotonic() >= self._deadline

    def _has_work(self) -> bool:
        if self._closing or self._flushing:
            return True
        if self._spilling:
            return time.monotonic() >= self._next_attempt or self._buffer_bytes >= self._high_water
        return len(self._buffer) >= self.options.batch_size or self._buffer_bytes >= self._high_water

    @property
    def _high_water(self) -> float:
        return self.options.memory_bytes * self.options.high_water

    def _wait_time(self) -> float:
        if self._spilling:
            return max(0.0, min(self.options.batch_wait, self._next_attempt - time.monotonic()))
        return self.options.batch_wait

    def _step(self) -> None:
        if not self._spilling and self._buffer_bytes >= self._high_water and not self._closing:
            # More is waiting than pushes keep up with: to disk, and drain at the bounded rate.
            self._spill_memory()
        if self._spilling:
            self._spill_memory()
            if time.monotonic() >= self._next_attempt and not self._closing:
                self._drain()
            return
        with self._cond:
            batch = self._take()
            self._in_flight = len(batch)
        try:
            if batch:
                outcome = self.pusher.push(batch, timeout=self._push_timeout())
                self._settle(outcome)
                if outcome.retry is not None:
                    self._spill(outcome.pending)
                    self._schedule(outcome.retry)
        finally:
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()

    def _take(self) -> list[Entry]:
        batch: list[Entry] = []
        size = 0
        while self._buffer and len(batch) < self.options.batch_size and size < self.options.batch_bytes:
            entry = self._buffer.popleft()
            batch.append(entry)
            size += len(entry.line)
            self._buffer_bytes -= len(entry.line) + _ENTRY_OVERHEAD
        return batch

    def _push_timeout(self) -> float:
        if self._closing:
            return max(0.05, min(self.options.timeout, self._deadline - time.monotonic()))
        return self.options.timeout

    def _settle(self, outcome: Outcome) -> None:
        if outcome.sent:
            self._sent.inc(outcome.sent)
        for entries, failure in outcome.parked:
            self.dead_letters.park(self.labels, entries, failure)
            # Logged from this thread, so this handler skips it; other handlers show it.
            log.warning("Loki refused %d records (%s, HTTP %s): %s; parked as dead letters",
                        len(entries), failure.cause.value, failure.status, failure.detail)

    def _schedule(self, failure: Failure) -> None:
        """Loki is unavailable: stay in spill mode and try again after a backoff."""
        self._attempt += 1
        # Full jitter: many app replicas recovering from one Loki outage should not retry in step.
        backoff = random.uniform(0.5, 1.0) * min(self.options.max_backoff,
                                                 self.options.backoff * 2 ** min(self._attempt, 20))
        self._next_attempt = time.monotonic() + (failure.retry_after or backoff)

    def _spill(self, entries: list[Entry]) -> None:
        """Write ``entries`` to the spill and stay in spill mode until it is drained."""
        with self._cond:
            self._spilling = True
        if not entries:
            return
        try:
            refused = self.store.append(entries)
        except OSError:
            log.exception("Loki spill write failed")
            refused = [(e, "spill_error") for e in entries]
        for entry, reason in refused:
            self._drop(reason, entry.level)
        self._spilled.inc(len(entries) - len(refused))
        self._spill_bytes.set(self.store.bytes)

    def _spill_memory(self) -> None:
        with self._cond:
            entries = list(self._buffer)
            self._buffer.clear()
            self._buffer_bytes = 0
            self._cond.notify_all()
        if entries:
            self._spill(entries)

    def _drain(self) -> None:
        """Send spilled segments oldest first at a bounded rate; leave spill mode when empty."""
        if self._attempt and not self.pusher.ready(self.options.timeout):
            self._attempt += 1
            self._next_attempt = time.monotonic() + min(self.options.max_backoff,
                                                        self.options.backoff * 2 ** min(self._attempt, 20))
            return
        started, sent_bytes = time.monotonic(), 0
        while not self._closing:
            if self._buffer_bytes >= self._high_water:
                self._spill_memory()
            batch, position = self.store.read(self.options.batch_size, self.options.batch_bytes)
            if not batch:
                if position is not None:
                    self.store.commit(position)  # only torn or corrupt lines were left: skip them
                if self._leave_spill_mode():
                    return
                continue
            outcome = self.pusher.push(batch, timeout=self._push_timeout())
            self._settle(outcome)
            if outcome.retry is not None:
                self._schedule(outcome.retry)  # nothing committed: sent halves are resent, Loki dedups
                return
            self._attempt = 0
            assert position is not None
            self.store.commit(position)
            self._spill_bytes.set(self.store.bytes)
            sent_bytes += sum(len(e.line) for e in batch)
            ahead = sent_bytes / self.options.drain_bytes_per_second - (time.monotonic() - started)
            if ahead > 0:
                self._wake.wait(ahead)

    def _leave_spill_mode(self) -> bool:
        """Back to pushing from memory once the spill is empty: what is buffered is newer."""
        with self._cond:
            if not self.store.empty():
                return False
            self._spilling = False
            self._attempt = 0
            self._cond.notify_all()
        self._spill_bytes.set(0)
        return True

    def _drop(self, reason: str, levelno: int) -> None:
        self._dropped.labels(reason=reason, level=level_name(levelno)).inc()


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
