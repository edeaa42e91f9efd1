"""Incident clusters as evidence for an alert on the same service (an ``EvidenceSource``).

The incident analyst collects findings from sources with ``name`` and ``async collect(case)``
(:class:`alert_webhooks.analysis.sources.EvidenceSource`). This one reads the live clustering
snapshot and returns the clusters that touch the alert's service, so an AppErrorBurst on rag-api
arrives with "the same cause also hit ingest and postgres".

    sources.append(ClusterSource(settings.data_dir))   # in the analyst's source list
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alert_webhooks.analysis.sources import Finding
from clustering.store import FILE, load_snapshot

SERVICE_LABELS = ("service", "exported_service", "compose_service", "job")
WEIGHT = {"critical": 2.5, "warning": 1.5, "info": 0.5}


class ClusterSource:
    name = "clusters"

    def __init__(self, data_dir: Path, limit: int = 3) -> None:
        self.data_dir, self.limit = data_dir, limit
        self._stamp: tuple[int, int, int] | None = None
        self._snapshot: dict[str, Any] = {}

    def _current(self) -> dict[str, Any]:
        """The exporter's snapshot, parsed again only when the file changed: the alerts of a storm
        share one read instead of each parsing the file. Each save is a new file (renamed into
        place), so its inode tells a rewrite apart even within one timestamp tick."""
        try:
            info = (self.data_dir / FILE).stat()
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            return {}
        if stamp != self._stamp:
            self._snapshot, self._stamp = load_snapshot(self.data_dir) or {}, stamp
        return self._snapshot

    async def collect(self, case: Any) -> list[Finding]:
        labels = case.lead.labels
        services = {labels[k] for k in SERVICE_LABELS if labels.get(k)}
        snapshot = await asyncio.to_thread(self._current)  # file I/O stays off the event loop
        found = [i for i in snapshot.get("incidents", []) if services & set(i.get("services", []))]
        return [
            Finding(
                "clusters",
                f"log cluster {i['incidentId']} ({i['severity']}): {i['events']} events across "
                f"{', '.join(i['services'])}; most frequent: {i['templates'][0]}",
                WEIGHT.get(i["severity"], 1),
            )
            for i in found[: self.limit]
        ]
