"""Configuration of the checklists, docs check and governance: the only place in ``operations``
that reads the environment.

Where a variable already means something to the rest of llm-sre (``PROMETHEUS_URL``,
``OLLAMA_HOST``, ``LLM_SRE_DATA_DIR``) it is read under the same name, so one ``.env`` configures
the service and its checklists alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from croniter import croniter
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _from(default: Any, *env: str) -> Any:
    return Field(default, validation_alias=AliasChoices(*env))


class OperationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = _from(Path("data"), "LLM_SRE_DATA_DIR")
    trace_dir: Path | None = _from(None, "TRACE_DIR")  # None: <data_dir>/traces
    prometheus_url: str = _from("http://127.0.0.1:9090", "PROMETHEUS_URL")
    alertmanager_url: str = _from("http://127.0.0.1:9093", "LLM_SRE_ALERTMANAGER_URL")
    # The webhook service (``llm-sre serve``) whose /readyz and /metrics the daily list reads.
    webhook_url: str = _from("http://127.0.0.1:8080", "LLM_SRE_WEBHOOK_URL")
    model_server: Literal["ollama", "openai"] = _from("ollama", "LLM_SRE_CHECKLIST_MODEL_SERVER")
    ollama_host: str = _from("http://127.0.0.1:11434", "OLLAMA_HOST")
    ollama_model: str = _from("qwen2.5:7b", "OLLAMA_MODEL")
    openai_base_url: str | None = _from(None, "LLM_SRE_OPENAI_BASE_URL")
    openai_model: str = _from("", "LLM_SRE_OPENAI_MODEL")
    openai_api_key: SecretStr | None = _from(None, "LLM_SRE_OPENAI_API_KEY")
    # YAML with thresholds, endpoints, the smoke query (docs/operations.md); unset: the defaults.
    checklist_file: Path | None = _from(None, "LLM_SRE_CHECKLIST_FILE")
    check_timeout_seconds: float = Field(
        5.0, gt=0, validation_alias=AliasChoices("LLM_SRE_CHECK_TIMEOUT_SECONDS", "check_timeout_seconds")
    )
    # Cron expressions (5 fields) for ``llm-sre serve`` to run the lists on; empty = not scheduled.
    daily_cron: str = _from("0 8 * * *", "LLM_SRE_CHECKLIST_DAILY_CRON")
    weekly_cron: str = _from("0 8 * * 1", "LLM_SRE_CHECKLIST_WEEKLY_CRON")
    slack_webhook_url: SecretStr | None = _from(None, "SLACK_WEBHOOK_URL")
    governance_rules: Path | None = _from(None, "LLM_SRE_GOVERNANCE_RULES")  # None: the shipped rules

    @field_validator("daily_cron", "weekly_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if value and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a 5-field cron expression")
        return value

    def schedules(self) -> dict[str, str]:
        """Checklist → cron, for the scheduler of ``llm-sre serve`` (deploy runs from pipelines)."""
        crons = {"daily": self.daily_cron, "weekly": self.weekly_cron}
        return {name: cron for name, cron in crons.items() if cron}

    @property
    def traces(self) -> Path:
        return self.trace_dir if self.trace_dir is not None else self.data_dir / "traces"

    @property
    def state_dir(self) -> Path:
        """Where the last statuses live, so a flip to FAIL is noticed across runs."""
        return self.data_dir / "checklists"

    @staticmethod
    def environment(names: list[str]) -> dict[str, str | None]:
        """The current values of the variables a deploy checklist requires.

        Their names come from the checklist file, so they cannot be fields; reading them here keeps
        every environment read of the package in this module.
        """
        return {name: os.environ.get(name) for name in names}
