"""Two replicas (``LLM_SRE_STORE=redis``, each with its own data directory) on one real Redis:
what is written through one is what the other reads — knowledge documents, their search and the
analysis archive (issue 19)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from alert_webhooks.analysis.redis_archive import RedisArchive
from alert_webhooks.analysis.result import AnalysisResult, Grounding
from alert_webhooks.refinement import with_reason
from llm_sre.processes import wait_until
from tests.fakes import FakeSlackWebhook
from tests.webhooks.conftest import notification

DOC = {
    "id": "pgbouncer-pool-full",
    "category": "connection",
    "title": "PgBouncer pool exhausted",
    "symptoms": ["no more connections allowed (max_client_conn)"],
    "solutions": ["raise default_pool_size"],
    "tags": ["pgbouncer", "postgres"],
}


def test_knowledge_and_analyses_written_through_one_replica_are_read_through_another(
    make_client: Callable[..., TestClient], redis_url: str, tmp_path: Path
) -> None:
    a, b = (
        make_client(data_dir=tmp_path / name, store_backend="redis", redis_url=redis_url) for name in "ab"
    )
    assert a.post("/api/v1/knowledge", json=DOC).status_code == 201
    assert b.get("/api/v1/knowledge/pgbouncer-pool-full").json()["title"] == DOC["title"]
    assert b.post("/api/v1/knowledge", json=DOC).status_code == 409  # one record, not one per replica
    hits = b.post("/api/v1/search", json={"query": "max_client_conn pgbouncer"}).json()
    assert hits[0]["document"]["id"] == "pgbouncer-pool-full"

    assert (
        b.put("/api/v1/knowledge/pgbouncer-pool-full", json={**DOC, "title": "Pool full"}).status_code == 200
    )
    assert a.get("/api/v1/knowledge/pgbouncer-pool-full").json()["title"] == "Pool full"
    assert b.delete("/api/v1/knowledge/pgbouncer-pool-full").status_code == 204
    assert a.get("/api/v1/knowledge/pgbouncer-pool-full").status_code == 404
    assert all(
        h["document"]["id"] != "pgbouncer-pool-full"
        for h in a.post("/api/v1/search", json={"query": "max_client_conn pgbouncer"}).json()
    )

    line = "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'."
    result = a.post("/api/v1/analyze", json={"error_logs": [line]}).json()
    assert b.get(f"/api/v1/analyze/{result['incident_id']}").json() == result
    assert not list((tmp_path / "a").glob("knowledge.db*"))  # nothing node-local


def test_related_cases_are_the_latest_others_of_the_same_runbook(redis_url: str) -> None:
    archive = RedisArchive(redis.Redis.from_url(redis_url), prefix="t-related")

    def result(incident_id: str, reference: str) -> AnalysisResult:
        return AnalysisResult(
            incident_id=incident_id,
            severity="critical",
            category="memory",
            summary=f"{incident_id}: maxmemory reached, password=hunter2",
            root_cause_analysis="",
            confidence_score=0.5,
            references=[reference],
            grounding=Grounding(grounded_ratio=1, dropped_sentences=0, backend="deterministic"),
        )

    for n in range(4):
        archive.save(result(f"inc-{n}", "runbook:redis-oom"))
    archive.save(result("inc-1", "runbook:tls-certificate-expired"))  # refined onto another runbook
    related = archive.related("runbook:redis-oom", exclude="inc-3")
    assert [c.incident_id for c in related] == ["inc-2", "inc-0"]
    assert all("hunter2" not in c.summary for c in related)
    assert archive.get("inc-1").references == ["runbook:tls-certificate-expired"]  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_an_incidents_analysis_is_read_from_its_record_and_stored_once(
    backend: str, make_client: Callable[..., TestClient], redis_url: str, slack: FakeSlackWebhook
) -> None:
    """``GET /api/v1/analyze/{id}`` answers what the incident shows, also after the refinement
    scheduler recorded a skip; on Redis the archive keeps no second copy of the analysis."""
    client = make_client(store_backend=backend, redis_url=redis_url,
                         slack_webhook_url=f"{slack.url}/services/T000/B000/test")  # fmt: skip
    incident_id = client.post("/alertmanager", json=notification(group="once")).json()["incident_id"]
    wait_until(lambda: client.get(f"/api/v1/incidents/{incident_id}").json()["delivered"], 15, what="sent")
    shown = client.get(f"/api/v1/incidents/{incident_id}").json()["analysis"]
    assert client.get(f"/api/v1/analyze/{incident_id}").json() == shown

    store = client.app.state.service.store  # type: ignore[attr-defined]
    skipped = with_reason(AnalysisResult.model_validate(shown), "budget")
    store.save_analysis(incident_id, skipped, time.time(), False)  # what the scheduler does on a skip
    assert client.get(f"/api/v1/analyze/{incident_id}").json()["grounding"]["fallback_reason"] == "budget"
    if backend == "redis":
        archived = redis.Redis.from_url(redis_url).hgetall(f"llm-sre:archive:{incident_id}")
        assert set(archived) == {b"reference"}
