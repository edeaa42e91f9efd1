"""Shared fixtures: a seeded knowledge base in a temporary data dir, and the analysis API app."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.runbooks import load_runbooks
from alert_webhooks.routes import analysis as routes
from alert_webhooks.settings import Settings

# No token configured: the write APIs are closed unless the insecure switch is on (issue 11).
OPEN = SimpleNamespace(settings=Settings(insecure=True))


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    base = KnowledgeBase(tmp_path / "knowledge.db")
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
