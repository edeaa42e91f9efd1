"""The briefings' own configuration; the only place in ``briefing`` that reads the environment.

Slack, Grafana, Prometheus, the LLM backend and the data directory are the webhook service's
settings (:class:`alert_webhooks.settings.Settings`): a briefing posts where incidents post.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, field: str) -> AliasChoices:
    return AliasChoices(name, field)


class BriefingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    enabled: bool = Field(True, validation_alias=_env("LLM_SRE_BRIEFINGS", "enabled"))
    # Cron expressions in the server's local time zone (minute hour day month weekday).
    digest_cron: str = Field("0 8 * * *", validation_alias=_env("LLM_SRE_BRIEF_DIGEST_CRON", "digest_cron"))
    health_cron: str = Field("*/5 * * * *", validation_alias=_env("LLM_SRE_BRIEF_HEALTH_CRON", "health_cron"))
    watch_cron: str = Field("*/15 * * * *", validation_alias=_env("LLM_SRE_BRIEF_WATCH_CRON", "watch_cron"))
    period_hours: float = Field(
        24.0, gt=0, le=24 * 31, validation_alias=_env("LLM_SRE_BRIEF_PERIOD_HOURS", "period_hours")
    )
    # Early warnings further away than this are not reported.
    horizon_hours: float = Field(
        72.0, gt=0, validation_alias=_env("LLM_SRE_BRIEF_HORIZON_HOURS", "horizon_hours")
    )
    step_seconds: float = Field(
        300.0, ge=15, validation_alias=_env("LLM_SRE_BRIEF_STEP_SECONDS", "step_seconds")
    )
    # Per section: a slow Prometheus costs that section, named in the briefing, not the briefing.
    deadline_seconds: float = Field(
        20.0, gt=0, validation_alias=_env("LLM_SRE_BRIEF_DEADLINE_SECONDS", "deadline_seconds")
    )
    llm_deadline_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("LLM_SRE_BRIEF_LLM_DEADLINE_SECONDS", "llm_deadline_seconds")
    )
    # Unset: no Redis reports. The channels are the design's (slm.reports, slm.alerts).
    redis_url: str | None = Field(None, validation_alias=_env("LLM_SRE_REPORTS_REDIS_URL", "redis_url"))
    reports_channel: str = Field(
        "slm.reports", validation_alias=_env("LLM_SRE_REPORTS_CHANNEL", "reports_channel")
    )
    alerts_channel: str = Field(
        "slm.alerts", validation_alias=_env("LLM_SRE_ALERTS_CHANNEL", "alerts_channel")
    )
    # Reports kept while Redis is down, published in order when it is back; older ones are dropped
    # (and counted) beyond this.
    redis_backlog: int = Field(288, ge=0, validation_alias=_env("LLM_SRE_REPORTS_BACKLOG", "redis_backlog"))
