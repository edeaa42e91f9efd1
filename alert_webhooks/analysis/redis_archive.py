"""Analysis results by incident id in Redis, so ``GET /api/v1/analyze/{id}`` and "related cases"
answer the same on every replica; same methods as the SQLite
:class:`~alert_webhooks.analysis.archive.Archive`.

    archive = RedisArchive.from_url("redis://127.0.0.1:6379/0")
    archive.save(result)
    archive.related("runbook:redis-oom", exclude="inc-9")

Layout: ``archive:<incident>`` is a hash (body, reference, saved_at); ``archive:ref:<reference>``
a sorted set of incidents by save time, so "the latest cases of this runbook" is one range read.
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis.client import Pipeline

from alert_webhooks.analysis.archive import PastCase, stored_form
from alert_webhooks.analysis.redis_records import RedisRecords
from alert_webhooks.analysis.result import AnalysisResult
from exporters.redact import redact


class RedisArchive(RedisRecords):
    PREFIX = "llm-sre:archive"

    def save(self, result: AnalysisResult) -> None:
        result, reference = stored_form(result)
        key = self._k(result.incident_id)
        saved_at = self._clock().timestamp()

        def write(pipe: Pipeline) -> None:
            previous = pipe.hget(key, "reference")
            pipe.multi()
            if previous is not None:  # the incident's runbook changed with a refinement
                pipe.zrem(self._k(f"ref:{previous.decode()}"), result.incident_id)
            pipe.hset(key, mapping={"body": result.model_dump_json(), "reference": reference})
            pipe.zadd(self._k(f"ref:{reference}"), {result.incident_id: saved_at})

        self._r.transaction(write, key)

    def get(self, incident_id: str) -> AnalysisResult | None:
        body = self._r.hget(self._k(incident_id), "body")
        return AnalysisResult.model_validate_json(body) if body else None

    def related(self, reference: str, exclude: str, limit: int = 3) -> list[PastCase]:
        """The latest other incidents whose first reference (their runbook) is ``reference``."""
        latest = self._r.zrevrange(self._k(f"ref:{reference}"), 0, limit, withscores=True)
        chosen = [(i.decode(), at) for i, at in latest if i.decode() != exclude][:limit]
        pipe = self._r.pipeline(transaction=False)
        for incident_id, _ in chosen:
            pipe.hget(self._k(incident_id), "body")
        cases = []
        for (incident_id, at), body in zip(chosen, pipe.execute(), strict=True):
            if body:
                summary = AnalysisResult.model_validate_json(body).summary
                cases.append(PastCase(incident_id, datetime.fromtimestamp(at, UTC), redact(summary)))
        return cases
