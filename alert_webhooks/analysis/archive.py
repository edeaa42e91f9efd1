"""Analysis results by incident id, for ``GET /api/v1/analyze/{incident_id}``.

Kept in the analyst's own SQLite file (beside the knowledge base), not in the webhook store:
the store owns delivery state; this is the latest result of each incident, first or refined.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from alert_webhooks.analysis.result import AnalysisResult


class Archive:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS analyses (incident_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )

    def save(self, result: AnalysisResult) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?)",
                (result.incident_id, result.model_dump_json()),
            )

    def get(self, incident_id: str) -> AnalysisResult | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM analyses WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return AnalysisResult.model_validate_json(row[0]) if row else None

    def close(self) -> None:
        self._db.close()
