"""The webhook service's configuration: the only place in ``alert_webhooks`` that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a sane default so ``llm-sre serve`` works with nothing configured."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data"), validation_alias=AliasChoices("LLM_SRE_DATA_DIR", "data_dir"))
    webhook_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("LLM_SRE_WEBHOOK_TOKEN", "webhook_token")
    )
    # Without a token every write API (intake, analyze, knowledge) refuses; this opens them for a
    # trusted network or a demo. ``serve`` warns at start either way.
    insecure: bool = Field(False, validation_alias=AliasChoices("LLM_SRE_INSECURE", "insecure"))
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

    # --- webhook service: intake, store, worker, delivery (docs/webhook.md lists each) ---
    # Slack Web API base (bot token mode): a proxy, GovSlack, or a local stand-in in tests.
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url")
    )
    # A Slack incoming webhook cannot be asked whether a POST cut short by a crash or timeout was
    # posted: "resend" it marked as a possible repeat (at-least-once) or "skip" it (at-most-once).
    slack_webhook_uncertain: Literal["resend", "skip"] = Field(
        "resend",
        validation_alias=AliasChoices("LLM_SRE_SLACK_WEBHOOK_UNCERTAIN", "slack_webhook_uncertain"),
    )
    # Alertmanager treats a 413 as final (the notification is lost), so the default is generous:
    # ~4,000 alerts in one group. Set ``max_alerts`` in the webhook config to stay far below it.
    max_body_bytes: int = Field(
        4_194_304, gt=0, validation_alias=AliasChoices("LLM_SRE_WEBHOOK_MAX_BODY_BYTES", "max_body_bytes")
    )
    store_backend: Literal["sqlite", "redis"] = Field(
        "sqlite", validation_alias=AliasChoices("LLM_SRE_STORE", "store_backend")
    )
    # NORMAL survives a process crash (the WAL is in the OS cache); FULL also survives power loss.
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL", validation_alias=AliasChoices("LLM_SRE_SQLITE_SYNCHRONOUS", "sqlite_synchronous")
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )
    # Incident pages are built in this many helper processes (0: on a thread, sharing the GIL with
    # the intake; see alert_webhooks/pages.py for what that costs an ack).
    read_processes: int = Field(
        1, ge=0, le=8, validation_alias=AliasChoices("LLM_SRE_READ_PROCESSES", "read_processes")
    )
    worker_concurrency: int = Field(
        4, gt=0, validation_alias=AliasChoices("LLM_SRE_WORKER_CONCURRENCY", "worker_concurrency")
    )
    llm_concurrency: int = Field(
        1, ge=0, validation_alias=AliasChoices("LLM_SRE_LLM_CONCURRENCY", "llm_concurrency")
    )
    # Slack app signing secret: POST /api/v1/slack/interactions (feedback buttons) verifies each
    # request with it; unset, the endpoint refuses everything.
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    # Hourly (sliding) LLM budget for refinements; unset: unlimited. When spent, incidents keep
    # the deterministic summary and wait, critical first, for the budget to return.
    llm_budget_tokens: int | None = Field(
        None, gt=0, validation_alias=AliasChoices("LLM_SRE_LLM_BUDGET_TOKENS", "llm_budget_tokens")
    )
    llm_budget_seconds: float | None = Field(
        None, gt=0, validation_alias=AliasChoices("LLM_SRE_LLM_BUDGET_SECONDS", "llm_budget_seconds")
    )
    delivery_max_attempts: int = Field(
        8, gt=0, validation_alias=AliasChoices("LLM_SRE_DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts")
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, validation_alias=AliasChoices("LLM_SRE_RETRY_BASE_SECONDS", "retry_base_seconds")
    )
    retry_max_seconds: float = Field(
        300.0, gt=0, validation_alias=AliasChoices("LLM_SRE_RETRY_MAX_SECONDS", "retry_max_seconds")
    )
    lease_seconds: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("LLM_SRE_LEASE_SECONDS", "lease_seconds")
    )
    # Archived notifications, dedup keys and resolved incidents older than this are forgotten.
    retention_days: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("LLM_SRE_RETENTION_DAYS", "retention_days")
    )
    sink_timeout_seconds: float = Field(
        10.0, gt=0, validation_alias=AliasChoices("LLM_SRE_SINK_TIMEOUT_SECONDS", "sink_timeout_seconds")
    )

    # --- incident analyst: LLM backends, deadlines, grounding (docs/analyst.md lists each) ---
    analyst_backend: Literal["ollama", "openai", "none"] = Field(
        "ollama", validation_alias=AliasChoices("LLM_SRE_ANALYST_BACKEND", "analyst_backend")
    )
    analyst_deadline_seconds: float = Field(
        60.0,
        gt=0,
        validation_alias=AliasChoices("LLM_SRE_ANALYST_DEADLINE_SECONDS", "analyst_deadline_seconds"),
    )
    analyst_evidence_seconds: float = Field(
        3.0,
        gt=0,
        validation_alias=AliasChoices("LLM_SRE_ANALYST_EVIDENCE_SECONDS", "analyst_evidence_seconds"),
    )
    analyst_grounding_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        validation_alias=AliasChoices("LLM_SRE_ANALYST_GROUNDING_THRESHOLD", "analyst_grounding_threshold"),
    )
    analyst_max_context_tokens: int = Field(
        8192,
        ge=2048,
        validation_alias=AliasChoices("LLM_SRE_ANALYST_MAX_CONTEXT_TOKENS", "analyst_max_context_tokens"),
    )
    ollama_keep_alive: str = Field(
        "30m", validation_alias=AliasChoices("OLLAMA_KEEP_ALIVE", "ollama_keep_alive")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("LLM_SRE_OPENAI_BASE_URL", "openai_base_url")
    )
    openai_model: str = Field("", validation_alias=AliasChoices("LLM_SRE_OPENAI_MODEL", "openai_model"))
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("LLM_SRE_OPENAI_API_KEY", "openai_api_key")
    )

    # Shadow mode: a second model configuration refines live incidents only while the model slot
    # is idle; its results are stored and exported (config="shadow"), never delivered.
    shadow_backend: Literal["ollama", "openai", "none"] = Field(
        "none", validation_alias=AliasChoices("LLM_SRE_SHADOW_BACKEND", "shadow_backend")
    )
    shadow_model: str = Field("", validation_alias=AliasChoices("LLM_SRE_SHADOW_MODEL", "shadow_model"))
    shadow_host: str | None = Field(None, validation_alias=AliasChoices("LLM_SRE_SHADOW_HOST", "shadow_host"))
    # The shadow's own hourly budget (it never draws on the primary's); unset: unlimited.
    shadow_budget_tokens: int | None = Field(
        None, gt=0, validation_alias=AliasChoices("LLM_SRE_SHADOW_BUDGET_TOKENS", "shadow_budget_tokens")
    )
    shadow_budget_seconds: float | None = Field(
        None, gt=0, validation_alias=AliasChoices("LLM_SRE_SHADOW_BUDGET_SECONDS", "shadow_budget_seconds")
    )


    @field_validator("webhook_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # ``LLM_SRE_WEBHOOK_TOKEN=`` must not configure the empty string as the token ("Bearer "
        # would pass): it means unset, and the write APIs stay closed.
        return None if value == "" else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
