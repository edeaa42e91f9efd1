"""Analysis results by incident id in Redis, so ``GET /api/v1/analyze/{id}`` and "related cases"
answer the same on every replica; same methods as the SQLite
:class:`~alert_webhooks.analysis.archive.Archive`.

    archive = RedisArchive.from_url("redis://127.0.0.1:6379/0")
    archive.save(result)
    archive.related("runbook:redis-oom", exclude="inc-9")

Layout: ``archive:<incident>`` is a hash (reference, and the body); ``archive:ref:<reference>``
a sorted set of incidents by save time, so "the latest cases of this runbook" is one range read.

Stored once: an incident the webhook store holds (``llm-sre:incident:<id>``, its store of record)
keeps its analysis there only — the archive keeps just its reference, and reads the analysis from
the incident. So what ``GET /api/v1/analyze/{id}`` answers is what the incident shows, also after
the refinement scheduler replaced it or recorded why it was skipped. Analyses of
``POST /api/v1/analyze`` have no incident and keep their body here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from redis.client import Pipeline

from alert_webhooks.analysis.archive import PastCase, stored_form
from alert_webhooks.analysis.redis_records import RedisRecords
from alert_webhooks.analysis.result import AnalysisResult
from exporters.redact import redact


class RedisArchive(RedisRecords):
    PREFIX = "llm-sre:archive"
    INCIDENTS = "llm-sre:incident"  # RedisStore's incident records (its default prefix)

    def _incident(self, incident_id: str) -> str:
        return f"{self.INCIDENTS}:{incident_id}"

    def save(self, result: AnalysisResult) -> None:
        result, reference = stored_form(result)
        key = self._k(result.incident_id)
        saved_at = self._clock().timestamp()

        def write(pipe: Pipeline) -> None:
            previous = pipe.hget(key, "reference")
            in_store = pipe.exists(self._incident(result.incident_id))
            pipe.multi()
            if previous is not None:  # the incident's runbook changed with a refinement
                pipe.zrem(self._k(f"ref:{previous.decode()}"), result.incident_id)
            if in_store:
                pipe.hdel(key, "body")
                pipe.hset(key, "reference", reference)
            else:
                pipe.hset(key, mapping={"body": result.model_dump_json(), "reference": reference})
            pipe.zadd(self._k(f"ref:{reference}"), {result.incident_id: saved_at})

        self._r.transaction(write, key)

    def _analyses(self, incident_ids: list[str]) -> list[AnalysisResult | None]:
        """Each incident's analysis: from its incident record when the store has one, else the body."""
        pipe = self._r.pipeline(transaction=False)
        for incident_id in incident_ids:
            pipe.get(self._incident(incident_id))
            pipe.hget(self._k(incident_id), "body")
        found = pipe.execute()
        analyses: list[AnalysisResult | None] = []
        for record, body in zip(found[::2], found[1::2], strict=True):
            if record is not None:
                analysis = json.loads(record)["analysis"]
                analyses.append(AnalysisResult.model_validate(analysis) if analysis else None)
            else:
                analyses.append(AnalysisResult.model_validate_json(body) if body else None)
        return analyses

    def get(self, incident_id: str) -> AnalysisResult | None:
        return self._analyses([incident_id])[0]

    def related(self, reference: str, exclude: str, limit: int = 3) -> list[PastCase]:
        """The latest other incidents whose first reference (their runbook) is ``reference``."""
        latest = self._r.zrevrange(self._k(f"ref:{reference}"), 0, limit, withscores=True)
        chosen = [(i.decode(), at) for i, at in latest if i.decode() != exclude][:limit]
        analyses = self._analyses([incident_id for incident_id, _ in chosen])
        return [
            PastCase(incident_id, datetime.fromtimestamp(at, UTC), redact(analysis.summary))
            for (incident_id, at), analysis in zip(chosen, analyses, strict=True)
            if analysis is not None  # pruned with its incident, or not stored by the worker yet
        ]
