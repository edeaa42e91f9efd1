"""Log lines in, Prometheus series out: the first step of proactive detection.

Every line is parsed (:mod:`exporters.logline`), mined into a pattern (:mod:`exporters.patterns`)
and counted as

* ``llm_sre_log_events_total{service, level, pattern}`` - ``pattern`` is ``p<id>`` for the
  top-N patterns by recent volume *per (service, level)* and ``_other`` for the rest, so a rare
  new error pattern is not crowded out by chatty info lines;
* ``llm_sre_log_new_patterns_total{service, level}`` - a pattern seen for the first time ever
  (the miner's state persists, so a restart does not make every pattern "new" again);
* ``llm_sre_app_errors_total{service, route, error_code}`` - error-level records that carry a
  route or an error code (JSON fields, or the status of 5xx access-log lines), the series the
  incident-aggregation alert sums by service, route and error_code.

Sources are :class:`exporters.sidecar.Source` objects (files, stdin, a Loki query), so the
exporter reuses the sidecar's threads, error counting and ``/metrics`` server. Each source's
streams get their header format detected from their first lines (:func:`exporters.logformat.detect`,
never from a file name), the same as ``llm-sre logs mine`` and ``bench/loghub.py``: a file from
its first lines on disk, stdin from its first lines, a Loki service from its lines in the first
poll that has any.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics
from exporters.labels import BoundedLabel, error_type
from exporters.logformat import DETECT_LINES, LogFormat, detect, parse
from exporters.miner_metrics import MinerCollector
from exporters.patterns import Match, PatternMiner
from exporters.tailer import COMPRESSED, JsonlTailer

log = logging.getLogger(__name__)

OTHER = "_other"
UNKNOWN = "unknown"
_HEAD_BYTES = 256 * 1024  # of a file read to detect its header format
_ERROR_LEVELS = frozenset({"error", "critical"})
_ROUTE_KEYS = ("route", "http.route", "path", "url.path", "endpoint")
_CODE_KEYS = ("error_code", "code", "error_type", "status", "status_code", "http.status_code")
# Path segments that are ids: numbers, UUIDs, long hex, or long mixed tokens.
_ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-fA-F-]{8,}|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]{11,})$")


def normalise_route(route: str) -> str:
    """``/v1/documents/123?x=1`` → ``/v1/documents/:id``: routes, not URLs, are label values."""
    path = route.split("?", 1)[0].split("#", 1)[0]
    return "/".join(":id" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))[:128] or "/"


@dataclass
class _Score:
    """A pattern's volume with exponential decay, updated lazily when it is read or bumped."""

    value: float = 0.0
    at: float = 0.0

    def now(self, t: float, half_life: float) -> float:
        return self.value * 0.5 ** ((t - self.at) / half_life) if t > self.at else self.value

    def bump(self, t: float, half_life: float) -> None:
        self.value = self.now(t, half_life) + 1.0
        self.at = t


@dataclass
class TopPatterns:
    """Which patterns get their own label, per key; the rest share ``_other``.

    A pattern is admitted while there is room; when full, a pattern replaces the weakest
    admitted one only if its decayed volume is twice as high, so labels do not flap between
    two similar patterns. Evicted patterns' series are removed by the caller.
    """

    limit: int = 30
    half_life: float = 3600.0
    scores: dict[str, dict[str, _Score]] = field(default_factory=dict)
    admitted: dict[str, set[str]] = field(default_factory=dict)

    def label(self, key: str, pattern: str, t: float) -> tuple[str, str | None]:
        """(label for this line, pattern evicted to make room or None)."""
        scores = self.scores.setdefault(key, {})
        scores.setdefault(pattern, _Score()).bump(t, self.half_life)
        admitted = self.admitted.setdefault(key, set())
        if pattern in admitted:
            return pattern, None
        if len(admitted) < self.limit:
            admitted.add(pattern)
            return pattern, None
        weakest = min(admitted, key=lambda p: scores[p].now(t, self.half_life))
        if scores[pattern].now(t, self.half_life) > 2 * scores[weakest].now(t, self.half_life):
            admitted.discard(weakest)
            admitted.add(pattern)
            return pattern, weakest
        return OTHER, None

    def prune(self, t: float, floor: float = 0.01) -> None:
        """Forget volumes of patterns that are not labelled and have decayed to nothing."""
        for key, scores in self.scores.items():
            admitted = self.admitted.get(key, set())
            stale = [p for p, s in scores.items() if p not in admitted and s.now(t, self.half_life) < floor]
            for pattern in stale:
                del scores[pattern]

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "admitted": {k: sorted(v) for k, v in self.admitted.items()},
            "scores": {k: {p: [s.value, s.at] for p, s in v.items()} for k, v in self.scores.items()},
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.admitted = {k: set(v[: self.limit]) for k, v in data.get("admitted", {}).items()}
        self.scores = {k: {p: _Score(*s) for p, s in v.items()} for k, v in data.get("scores", {}).items()}


class PatternCounter:
    """Counts lines into the three log series; thread-safe, state saved to ``state_dir``.

    >>> counter = PatternCounter(registry, service="rag-api", state_dir=Path("data/logs"))
    >>> counter.observe('{"level": "error", "message": "boom", "route": "/v1/chat"}')
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        service: str = "app",
        state_dir: Path | None = None,
        top_n: int = 30,
        max_values: int = 50,
        clock: Callable[[], float] = time.time,
        listeners: Iterable[Callable[[str, str | None], object]] = (),
    ) -> None:
        m = metrics(registry)
        self.listeners = list(listeners)  # live hooks (clustering, credential stuffing) see every line
        self._events = m["llm_sre_log_events_total"]
        self._new = m["llm_sre_log_new_patterns_total"]
        self._errors = m["llm_sre_app_errors_total"]
        self.service = service
        self.state_dir = state_dir
        self._clock = clock
        self._lock = threading.Lock()
        self.miner = PatternMiner(state_path=state_dir / "patterns.drain" if state_dir else None)
        if registry is not None:
            registry.register(MinerCollector(self.miner))
        self.top = TopPatterns(limit=top_n)
        self._formats: dict[str, LogFormat | None] = {}  # header format by stream, detected once
        self._services = BoundedLabel([service], limit=max_values)
        self._routes = BoundedLabel(limit=max_values)
        self._codes = BoundedLabel(limit=max_values)
        if state_dir is not None and (state_dir / "patterns.json").exists():
            self.top.restore(json.loads((state_dir / "patterns.json").read_text()))

    def detect_format(self, stream: str, sample: Iterable[str]) -> LogFormat | None:
        """Decide a stream's header format once, from its first lines (None: parse each line)."""
        with self._lock:
            if stream not in self._formats:
                fmt = self._formats[stream] = detect(sample)
                log.info("log stream %s: header format %s", stream, fmt.spec if fmt else "none detected")
            return self._formats[stream]

    def knows_format(self, stream: str) -> bool:
        return stream in self._formats

    def observe(self, line: str, service: str | None = None, stream: str | None = None) -> Match:
        """Count one line; ``stream`` names the source stream whose detected header it has."""
        parsed = parse(line, self._formats.get(stream) if stream is not None else None)
        svc = self._services(str(parsed.fields.get("service") or service or self.service))
        with self._lock:  # admission, eviction and the increment together, or a race re-creates
            match = self.miner.add(parsed.message)  # an evicted pattern's series
            label, evicted = self.top.label(f"{svc}\x00{parsed.level}", match.pattern_id, self._clock())
            if evicted is not None:
                self._events.remove(svc, parsed.level, evicted)
            self._events.labels(svc, parsed.level, label).inc()
        if match.new:
            self._new.labels(svc, parsed.level).inc()
        if parsed.level in _ERROR_LEVELS:
            self._count_error(svc, parsed.fields)
        for listener in self.listeners:
            listener(line, svc)
        return match

    def _count_error(self, service: str, fields: dict[str, Any]) -> None:
        route = next((str(fields[k]) for k in _ROUTE_KEYS if fields.get(k)), None)
        code = next((str(fields[k]) for k in _CODE_KEYS if fields.get(k) not in (None, "")), None)
        if route is None and code is None:
            return  # an unstructured error line: counted as a log event only
        route_label = self._routes(normalise_route(route)) if route else UNKNOWN
        # error_type() turns anything that is not a code or class name (a message) into _OTHER.
        code_label = self._codes(error_type(code)) if code else UNKNOWN
        self._errors.labels(service, route_label, code_label).inc()

    def save(self) -> None:
        """Persist the miner and the label admissions atomically (call periodically and at exit)."""
        if self.state_dir is None:
            return
        with self._lock:
            self.miner.save()
            self.top.prune(self._clock())
            data = json.dumps(self.top.to_json())
        tmp = self.state_dir / "patterns.json.tmp"
        tmp.write_text(data)
        os.replace(tmp, self.state_dir / "patterns.json")


class LineSource:
    """A sidecar source feeding lines from any iterable (stdin, a pipe) into a counter.

    ``poll`` consumes the iterable until it is exhausted; later polls find it empty.
    """

    name = "logs"

    def __init__(self, counter: PatternCounter, lines: Iterable[str], service: str | None = None,
                 interval: float = 1.0) -> None:
        self.counter = counter
        self.lines = iter(lines)
        self.service = service
        self.interval = interval

    def poll(self) -> None:
        stream = f"lines:{self.service or ''}"
        if not self.counter.knows_format(stream):  # waits for the first lines (or the end)
            head = list(itertools.islice(self.lines, DETECT_LINES))
            self.counter.detect_format(stream, head)
            self.lines = itertools.chain(head, self.lines)
        for line in self.lines:
            if line.strip():
                self.counter.observe(line, self.service, stream)


class _LogFiles(JsonlTailer):
    """The trace tailer's rotation-safe reading, pointed at named log files and their rotations.

    Unlike trace files, an existing log may hold months of history; counting it all at the
    first start would look like a burst of errors, so files seen for the first time (no state
    yet) are read from their current end unless ``from_start``.
    """

    def __init__(self, paths: Iterable[Path], state_path: Path, from_start: bool = False) -> None:
        self.paths = list(paths)
        fresh = not state_path.exists()
        super().__init__(self.paths[0].parent, state_path)
        if fresh and not from_start:
            self._skip_existing()

    def files(self) -> list[Path]:
        found: set[Path] = set()
        for path in self.paths:  # app.log plus rotated app.log.1, app.log-20261126 …
            found.update(p for p in path.parent.glob(glob_escape(path.name) + "*")
                         if p.is_file() and not p.name.endswith(COMPRESSED))
        return sorted(found)

    def _skip_existing(self) -> None:
        for path in self.files():
            with contextlib.suppress(OSError), path.open("rb") as handle:
                fp = self.fingerprint(handle)
                if fp is not None:
                    self.offsets[fp] = os.fstat(handle.fileno()).st_size
        self._save()


def _head(path: Path) -> list[str]:
    """A file's first lines, whatever offset reading starts from: what its header is detected on."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_HEAD_BYTES)
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[:DETECT_LINES]


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


class FileSource:
    """Follows log files (``{path: service}``), surviving rotation; saves state every ``save_every`` s."""

    name = "logs"

    def __init__(self, counter: PatternCounter, files: dict[Path, str], state_path: Path, *,
                 interval: float = 1.0, save_every: float = 60.0, from_start: bool = False) -> None:
        self.counter = counter
        self.files = files
        self.tailer = _LogFiles(files, state_path, from_start)
        self.interval = interval
        self.save_every = save_every
        self._saved_at = time.monotonic()

    def _configured(self, path: Path) -> Path | None:
        """The ``--file`` path that ``path`` (or its rotation, ``app.log.1``) belongs to."""
        return next((p for p in self.files if path.name.startswith(p.name)), None)

    def poll(self) -> None:
        for batch in self.tailer.read():
            configured = self._configured(batch.path)
            service = self.files.get(configured) if configured is not None else None
            stream = f"file:{configured or batch.path}"
            if not self.counter.knows_format(stream):
                self.counter.detect_format(stream, _head(batch.path))
            for raw in batch.lines:
                if raw.strip():
                    self.counter.observe(raw.decode("utf-8", "replace"), service, stream)
        if time.monotonic() - self._saved_at >= self.save_every:
            self.counter.save()
            self._saved_at = time.monotonic()


class LokiSource:
    """Polls Loki's ``query_range`` for lines newer than the last one seen (a tail without websockets).

    The service of a line is its stream's ``service`` label. Pages of ``limit`` lines are
    fetched until a page comes back short, so a burst is not cut at one page.
    """

    name = "loki"

    def __init__(self, counter: PatternCounter, client: httpx.Client, url: str, query: str, *,
                 interval: float = 5.0, limit: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self.counter = counter
        self.client = client
        self.url = url.rstrip("/") + "/loki/api/v1/query_range"
        self.query = query
        self.interval = interval
        self.limit = limit
        self._clock = clock
        self.since_ns = int((clock() - interval) * 1e9)

    def poll(self) -> None:
        while True:
            end = int(self._clock() * 1e9)
            params = {"query": self.query, "start": str(self.since_ns + 1), "end": str(end),
                      "limit": str(self.limit), "direction": "forward"}
            response = self.client.get(self.url, params=params)
            response.raise_for_status()
            entries = sorted(
                (int(ns), line, stream.get("stream", {}).get("service"))
                for stream in response.json()["data"]["result"]
                for ns, line, *_ in stream.get("values", [])
            )
            for service in {svc for _, _, svc in entries}:
                stream = f"loki:{service or ''}"
                if not self.counter.knows_format(stream):
                    sample = (line for _, line, svc in entries if svc == service)
                    self.counter.detect_format(stream, itertools.islice(sample, DETECT_LINES))
            for ns, line, service in entries:
                self.counter.observe(line, service, f"loki:{service or ''}")
                self.since_ns = max(self.since_ns, ns)
            if len(entries) < self.limit:
                return
