"""The local outbox: what Slack or Grafana would have received, as JSON lines, when it is not configured.

    OutboxNotifier(Path("data/outbox.jsonl"), stands_in_for="slack")

Each line is ``{"at", "sink", "action", "incident_id", "revision", "key", "payload"}``. ``key`` is
unique per (incident, sink, revision, action): a crash between the append and the store's record of
it can repeat a line, and readers drop repeats by ``key``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from alert_webhooks.delivery import grafana, slack
from alert_webhooks.incidents import DeliveryState, Incident

Sink = Literal["slack", "grafana"]


class OutboxNotifier:
    metric_sink = "outbox"

    def __init__(self, path: Path, stands_in_for: Sink, grafana_url: str | None = None) -> None:
        self.sink = stands_in_for
        self._path = path
        self._grafana_url = grafana_url
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def _payload(self, incident: Incident) -> dict[str, Any]:
        if self.sink == "slack":
            return slack.message(incident, self._grafana_url)
        return grafana.annotation(incident)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line)  # one write per line: concurrent appenders never interleave within it

    async def deliver(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        if state.ref is None:
            action = "create"
        elif incident.status == "resolved" and state.status != "resolved":
            action = "resolve"
        else:
            action = "update"
        self.append(
            {
                "at": time.time(),
                "sink": self.sink,
                "action": action,
                "incident_id": incident.id,
                "revision": incident.revision,
                "key": f"{incident.id}:{self.sink}:{incident.revision}:{action}",
                "payload": self._payload(incident),
            }
        )
        yield DeliveryState("outbox", incident.revision, incident.status)
