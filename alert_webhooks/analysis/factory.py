"""Builds the analyst the worker, the API and ``llm-sre analyze`` share, from settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import AnalystConfig, IncidentAnalyst
from alert_webhooks.analysis.archive import Archive
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.llm import LLM, OllamaLLM, OpenAICompatLLM
from alert_webhooks.analysis.redis_archive import RedisArchive
from alert_webhooks.analysis.redis_knowledge import RedisKnowledgeBase
from alert_webhooks.analysis.runbooks import load_runbooks
from alert_webhooks.analysis.sources import EvidenceSource, LokiSource, PrometheusSource
from alert_webhooks.settings import Settings
from clustering.evidence import ClusterSource


def shared_redis(settings: Settings) -> str | None:
    """Where replicas keep the knowledge base and archive: the store's Redis when the store is
    Redis (one store of record), else None (SQLite files under the data directory)."""
    return settings.redis_url if settings.store_backend == "redis" else None


@lru_cache
def open_knowledge(data_dir: Path, redis_url: str | None = None) -> KnowledgeBase | RedisKnowledgeBase:
    """One knowledge base per data directory (or Redis), seeded with the shipped runbooks on first open."""
    kb = RedisKnowledgeBase.from_url(redis_url) if redis_url else KnowledgeBase(data_dir / "knowledge.db")
    kb.seed(load_runbooks())
    return kb


@lru_cache
def open_archive(data_dir: Path, redis_url: str | None = None) -> Archive | RedisArchive:
    return RedisArchive.from_url(redis_url) if redis_url else Archive(data_dir / "knowledge.db")


def build_llm(settings: Settings) -> LLM | None:
    """The configured backend; ``openai`` without a base URL is a configuration error, not a silent None."""
    timeout = settings.analyst_deadline_seconds + 1  # the analyst's deadline cancels first
    if settings.analyst_backend == "ollama":
        return OllamaLLM(
            settings.ollama_host,
            settings.ollama_model,
            settings.ollama_keep_alive,
            timeout,
            num_ctx=settings.analyst_max_context_tokens,  # fixed: a changing num_ctx reloads the model
        )
    if settings.analyst_backend == "openai":
        if not settings.openai_base_url or not settings.openai_model:
            raise ValueError(
                "LLM_SRE_ANALYST_BACKEND=openai needs LLM_SRE_OPENAI_BASE_URL and LLM_SRE_OPENAI_MODEL"
            )
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAICompatLLM(settings.openai_base_url, settings.openai_model, key, timeout)
    return None


def with_model(
    settings: Settings, backend: str, model: str | None = None, host: str | None = None
) -> tuple[Settings, str]:
    """``settings`` with another backend, model or server (``llm-sre eval``, shadow mode), and its
    label (``backend:model``)."""
    update: dict[str, object] = {"analyst_backend": backend}
    key, host_key = (
        ("ollama_model", "ollama_host") if backend == "ollama" else ("openai_model", "openai_base_url")
    )
    if model:
        update[key] = model
    if host:
        update[host_key] = host
    changed = settings.model_copy(update=update)
    return changed, f"{backend}:{getattr(changed, key)}"


def build_sources(settings: Settings) -> list[EvidenceSource]:
    # Incident clusters the log exporter wrote to the shared data dir, on the alert's services.
    sources: list[EvidenceSource] = [ClusterSource(settings.data_dir)]
    if settings.prometheus_url:
        sources.append(PrometheusSource(settings.prometheus_url, timeout=settings.analyst_evidence_seconds))
    if settings.loki_url:
        sources.append(LokiSource(settings.loki_url, timeout=settings.analyst_evidence_seconds))
    return sources


def build_analyst(
    settings: Settings, registry: CollectorRegistry | None = None, use_llm: bool = True
) -> IncidentAnalyst:
    """``registry``: where the ``llm_sre_analyst_*`` metrics go (default: the global registry)."""
    return IncidentAnalyst(
        open_knowledge(settings.data_dir, shared_redis(settings)),
        sources=build_sources(settings),
        llm=build_llm(settings) if use_llm else None,
        archive=open_archive(settings.data_dir, shared_redis(settings)),
        config=AnalystConfig(
            deadline=settings.analyst_deadline_seconds,
            evidence_deadline=settings.analyst_evidence_seconds,
            grounding_threshold=settings.analyst_grounding_threshold,
            max_context_tokens=settings.analyst_max_context_tokens,
        ),
        registry=registry,
    )
