"""The webhook service's configuration: the only place in ``alert_webhooks`` that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a sane default so ``llm-sre serve`` works with nothing configured."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data"), validation_alias=AliasChoices("LLM_SRE_DATA_DIR", "data_dir"))
    webhook_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("LLM_SRE_WEBHOOK_TOKEN", "webhook_token")
    )
    slack_webhook_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_WEBHOOK_URL", "slack_webhook_url")
    )
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_channel: str | None = Field(None, validation_alias=AliasChoices("SLACK_CHANNEL", "slack_channel"))
    grafana_url: str | None = Field(None, validation_alias=AliasChoices("GRAFANA_URL", "grafana_url"))
    grafana_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GRAFANA_TOKEN", "grafana_token")
    )
    ollama_host: str = Field(
        "http://127.0.0.1:11434", validation_alias=AliasChoices("OLLAMA_HOST", "ollama_host")
    )
    ollama_model: str = Field("qwen2.5:7b", validation_alias=AliasChoices("OLLAMA_MODEL", "ollama_model"))
    prometheus_url: str | None = Field(
        None, validation_alias=AliasChoices("PROMETHEUS_URL", "prometheus_url")
    )
    loki_url: str | None = Field(None, validation_alias=AliasChoices("LOKI_URL", "loki_url"))


@lru_cache
def get_settings() -> Settings:
    return Settings()
