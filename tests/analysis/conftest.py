"""Shared fixtures: a seeded knowledge base in a temporary data dir, and the analysis API app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.runbooks import load_runbooks
from alert_webhooks.routes import analysis as routes


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
    with TestClient(app) as client:
        yield client
