"""Analysis results by incident id, for ``GET /api/v1/analyze/{incident_id}`` and related cases.

Kept in the analyst's own SQLite file (beside the knowledge base), not in the webhook store:
the store owns delivery state; this is the latest result of each incident, first or refined.
Past incidents that matched the same runbook are what on-call wants as "related cases".

    archive = Archive(Path("data/knowledge.db"))
    archive.save(result)
    archive.related("runbook:redis-oom", exclude="inc-9")  # [PastCase(...), ...]
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alert_webhooks.analysis.knowledge import connect
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.masking import masked_analysis
from exporters.redact import redact


@dataclass(frozen=True)
class PastCase:
    incident_id: str
    saved_at: datetime
    summary: str


def stored_form(result: AnalysisResult) -> tuple[AnalysisResult, str]:
    """The result as archived, and its first reference (runbook) that related cases are found by.

    Stored masked: ``POST /api/v1/analyze`` bodies are not masked at an intake, and what is
    archived is served by ``GET /api/v1/analyze/{id}`` and quoted in other incidents."""
    result = masked_analysis(result)
    return result, result.references[0] if result.references else ""


class Archive:
    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._db = connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS analyses (incident_id TEXT PRIMARY KEY, body TEXT NOT NULL,"
            " reference TEXT NOT NULL, saved_at TEXT NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS analyses_reference ON analyses (reference, saved_at)")

    def save(self, result: AnalysisResult) -> None:
        result, reference = stored_form(result)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?)",
                (result.incident_id, result.model_dump_json(), reference, self._clock().isoformat()),
            )

    def get(self, incident_id: str) -> AnalysisResult | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM analyses WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return AnalysisResult.model_validate_json(row[0]) if row else None

    def related(self, reference: str, exclude: str, limit: int = 3) -> list[PastCase]:
        """The latest other incidents whose first reference (their runbook) is ``reference``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT incident_id, saved_at, json_extract(body, '$.summary') FROM analyses"
                " WHERE reference = ? AND incident_id != ? ORDER BY saved_at DESC LIMIT ?",
                (reference, exclude, limit),
            ).fetchall()
        # Masked again on the way out: rows written before ``save`` masked may hold raw values.
        return [PastCase(i, datetime.fromisoformat(at), redact(summary or "")) for i, at, summary in rows]

    def close(self) -> None:
        self._db.close()
