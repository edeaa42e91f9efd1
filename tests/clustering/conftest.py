from __future__ import annotations

import pytest

from analysts.settings import get_settings as analysts_settings
from clustering.settings import get_settings as clustering_settings
from security.settings import get_settings as security_settings


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    """Each test reads the environment it sets, with its own data dir and no model server."""
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    for cached in (analysts_settings, clustering_settings, security_settings):
        cached.cache_clear()
    yield
    for cached in (analysts_settings, clustering_settings, security_settings):
        cached.cache_clear()
