"""The log exporter's live hooks: incident clustering, credential stuffing and secrets seen, per line.

``llm-sre logs export`` passes every line it counts to these listeners (``listener(line, service)``).
Clustering keeps the last ``LLM_SRE_CLUSTER_LIVE_EVENTS`` error/warning events and re-clusters them
every ``LLM_SRE_CLUSTER_LIVE_SECONDS`` on a background thread, writing the snapshot
``GET /api/v1/clusters`` serves.

    counter = PatternCounter(registry, listeners=live_listeners(registry, Path("data")))
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from clustering.embed import build_embedder
from clustering.events import LEVELS, wide_event
from clustering.pipeline import ClusterPipeline, ClusterRun
from clustering.settings import ClusteringSettings
from clustering.settings import get_settings as clustering_settings
from clustering.store import save_snapshot
from exporters.catalogue import metrics
from exporters.logline import parse_line
from security.detector import Detector
from security.secrets import SecretsWatch
from security.settings import get_settings as security_settings
from security.watch import CredentialWatch, thresholds

log = logging.getLogger(__name__)
Listener = Callable[[str, str | None], object]


class ClusterWatch:
    """Buffers wide events; :meth:`flush` re-clusters them and counts new incident ids by severity.

    Clustering runs on a background thread (:meth:`start`), never in the line reader: an
    embedding server that is slow delays the snapshot, not the log counters.
    """

    def __init__(self, registry: CollectorRegistry | None, settings: ClusteringSettings, *,
                 data_dir: Path | None = None) -> None:
        m = metrics(registry)
        self._clusters = m["llm_sre_log_clusters_total"]
        self._events_counter = m["llm_sre_log_clustered_events_total"]
        fallbacks = m["llm_sre_embedding_fallbacks_total"]
        self.pipeline = ClusterPipeline(build_embedder(settings, lambda r: fallbacks.labels(reason=r).inc()),
                                        algorithm=settings.algorithm, eps=settings.eps,
                                        min_samples=settings.min_samples)
        self.events: deque = deque(maxlen=settings.live_events)
        self.every, self.data_dir = settings.live_seconds, data_dir
        self._pending, self._line_no = 0, 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def observe(self, line: str, service: str | None = None) -> None:
        parsed = parse_line(line)
        if parsed.level in LEVELS:
            with self._lock:
                self._line_no += 1
                self.events.append(wide_event(self._line_no, parsed, service or "app"))
                self._pending += 1

    def flush(self) -> ClusterRun | None:
        """Re-cluster if events arrived since the last run; the snapshot is rewritten."""
        with self._lock:
            if not self._pending:
                return None
            events, pending, self._pending = list(self.events), self._pending, 0
        run = self.pipeline.run(events)
        fresh = run.labels[-pending:]
        self._events_counter.labels(outcome="noise").inc(fresh.count(-1))
        self._events_counter.labels(outcome="clustered").inc(len(fresh) - fresh.count(-1))
        for inc in run.incidents:
            if inc.incidentId not in self._seen:
                self._seen.add(inc.incidentId)
                self._clusters.labels(severity=inc.severity).inc()
        if self.data_dir is not None:
            save_snapshot(self.data_dir, run.summary())
        return run

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.flush()
            except Exception:  # a failed run must not stop the next one
                log.exception("live clustering failed")

    def start(self) -> ClusterWatch:
        threading.Thread(target=self._loop, name="live-clustering", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()


def live_listeners(registry: CollectorRegistry | None, data_dir: Path) -> list[Listener]:
    """Clustering, credential-stuffing and secrets-in-logs listeners configured from the environment."""
    sec = security_settings()
    watch = CredentialWatch(registry, Detector(thresholds(sec), sec.allowlist), data_dir=data_dir)
    clusters = ClusterWatch(registry, clustering_settings(), data_dir=data_dir).start()
    secrets = SecretsWatch(registry, data_dir=data_dir)
    return [clusters.observe, watch.observe, secrets.observe]
