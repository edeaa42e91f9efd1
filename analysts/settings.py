"""Analyst and ``ask`` configuration: the only place in ``analysts`` that reads the environment.

The LLM and evidence variables are the incident analyst's (docs/analyst.md), so one set of
variables configures both; the rest are new here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from alert_webhooks.analysis.llm import LLM, OllamaLLM, OpenAICompatLLM
from alert_webhooks.settings import Settings


def _from(default: Any, *env: str, **kw: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(*env), **kw)


class AnalystsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = _from(Path("data"), "LLM_SRE_DATA_DIR", "data_dir")
    prometheus_url: str | None = _from(None, "PROMETHEUS_URL", "prometheus_url")
    backend: Literal["ollama", "openai", "none"] = _from("ollama", "LLM_SRE_ANALYST_BACKEND", "backend")
    ollama_host: str = _from("http://127.0.0.1:11434", "OLLAMA_HOST")
    ollama_model: str = _from("qwen2.5:7b", "OLLAMA_MODEL")
    openai_base_url: str | None = _from(None, "LLM_SRE_OPENAI_BASE_URL")
    openai_model: str = _from("", "LLM_SRE_OPENAI_MODEL")
    openai_api_key: SecretStr | None = _from(None, "LLM_SRE_OPENAI_API_KEY")
    deadline_seconds: float = _from(5.0, "LLM_SRE_ANALYST_DEADLINE_SECONDS", gt=0)
    evidence_seconds: float = _from(3.0, "LLM_SRE_ANALYST_EVIDENCE_SECONDS", gt=0)
    # A question is a sentence or two; anything longer is refused (413), not truncated.
    ask_max_chars: int = _from(2000, "LLM_SRE_ASK_MAX_CHARS", gt=0)
    # The new /api/v1 routes refuse every request while no token is configured, unless this is set.

    def llm(self) -> LLM | None:
        """The configured model server, or ``None`` (``none``, or ``openai`` without a URL)."""
        timeout = self.deadline_seconds + 1
        if self.backend == "ollama":
            return OllamaLLM(self.ollama_host, self.ollama_model, timeout=timeout)
        if self.backend == "openai" and self.openai_base_url and self.openai_model:
            key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
            return OpenAICompatLLM(self.openai_base_url, self.openai_model, key, timeout)
        return None


@lru_cache
def get_settings() -> AnalystsSettings:
    return AnalystsSettings()


def for_service(service: Settings) -> AnalystsSettings:
    """The environment's analyst settings on a running service's data dir and Prometheus."""
    env = get_settings()
    return env.model_copy(
        update={"data_dir": service.data_dir, "prometheus_url": service.prometheus_url or env.prometheus_url}
    )
