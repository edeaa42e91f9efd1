"""Clustering configuration: the only place in ``clustering`` that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _from(default: Any, *env: str, **kw: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(*env), **kw)


class ClusteringSettings(BaseSettings):
    """Defaults work with nothing set: Ollama is tried, the local vectoriser takes over if it is absent."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = _from(Path("data"), "LLM_SRE_DATA_DIR", "data_dir")
    # "ollama" and "openai" fall back to "local" when the server is down, slow or answers wrongly.
    embed_backend: Literal["ollama", "openai", "local"] = _from("ollama", "LLM_SRE_EMBED_BACKEND")
    ollama_host: str = _from("http://127.0.0.1:11434", "OLLAMA_HOST")
    ollama_embed_model: str = _from("nomic-embed-text", "OLLAMA_EMBED_MODEL")
    openai_embed_url: str | None = _from(None, "LLM_SRE_EMBED_OPENAI_URL")
    openai_embed_model: str = _from("", "LLM_SRE_EMBED_OPENAI_MODEL")
    embed_timeout_seconds: float = _from(5.0, "LLM_SRE_EMBED_TIMEOUT_SECONDS", gt=0)
    algorithm: Literal["dbscan", "hdbscan"] = _from("dbscan", "LLM_SRE_CLUSTER_ALGORITHM")
    # Cosine distance within which two events are neighbours (DBSCAN eps).
    eps: float = _from(0.6, "LLM_SRE_CLUSTER_EPS", gt=0, lt=2)
    min_samples: int = _from(2, "LLM_SRE_CLUSTER_MIN_SAMPLES", ge=2)
    # Live clustering in the log exporter: the last N error/warning events, re-clustered every S seconds.
    live_events: int = _from(2000, "LLM_SRE_CLUSTER_LIVE_EVENTS", ge=10)
    live_seconds: float = _from(60.0, "LLM_SRE_CLUSTER_LIVE_SECONDS", gt=0)


@lru_cache
def get_settings() -> ClusteringSettings:
    return ClusteringSettings()
