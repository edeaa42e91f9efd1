"""Shared fixtures: a seeded knowledge base in a temporary data dir, and the analysis API app."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.redis_knowledge import RedisKnowledgeBase
from alert_webhooks.analysis.runbooks import load_runbooks
from alert_webhooks.routes import analysis as routes
from alert_webhooks.settings import Settings
from tests.webhooks.conftest import redis_url  # noqa: F401  (a real redis-server per module)

# No token configured: the write APIs are closed unless the insecure switch is on (issue 11).
OPEN = SimpleNamespace(settings=Settings(insecure=True))


#: ``@pytest.mark.parametrize("kb", BACKENDS, indirect=True)`` runs a test on both knowledge bases
BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.e2e)]


@pytest.fixture
def kb(request: pytest.FixtureRequest, tmp_path: Path) -> KnowledgeBase:
    """The seeded knowledge base: SQLite, or Redis (with a real redis-server) when parametrised."""
    if getattr(request, "param", "sqlite") == "sqlite":
        base = KnowledgeBase(tmp_path / "knowledge.db")
    else:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        base = RedisKnowledgeBase(client, prefix=f"t-{uuid.uuid4().hex[:8]}:kb")
    base.seed(load_runbooks())
    yield base
    base.close()


@pytest.fixture
def api(kb: KnowledgeBase) -> TestClient:
    app = FastAPI()
    app.include_router(routes.router)
    app.dependency_overrides[routes.get_knowledge] = lambda: kb
    app.state.service = OPEN
    with TestClient(app) as client:
        yield client
