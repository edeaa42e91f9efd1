"""Credential-stuffing configuration: the only place in ``security`` that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _from(default: Any, *env: str, **kw: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(*env), **kw)


class SecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = _from(Path("data"), "LLM_SRE_DATA_DIR", "data_dir")
    # Sources never treated as attackers (a load generator, a probe): IPs or CIDRs, comma-separated.
    allowlist: Annotated[list[str], NoDecode] = _from([], "LLM_SRE_AUTH_ALLOWLIST", "allowlist")
    window_seconds: float = _from(600.0, "LLM_SRE_AUTH_WINDOW_SECONDS", gt=0)
    slow_window_seconds: float = _from(21600.0, "LLM_SRE_AUTH_SLOW_WINDOW_SECONDS", gt=0)
    # Distinct accounts failing from one source within the window.
    source_accounts: int = _from(10, "LLM_SRE_AUTH_SOURCE_ACCOUNTS", ge=2)
    # Distinct accounts and sources failing under one fingerprint (user agent or subnet) within the window.
    distributed_accounts: int = _from(12, "LLM_SRE_AUTH_DISTRIBUTED_ACCOUNTS", ge=2)
    distributed_sources: int = _from(5, "LLM_SRE_AUTH_DISTRIBUTED_SOURCES", ge=2)
    # Distinct accounts failing from one source or fingerprint within the slow window.
    slow_accounts: int = _from(20, "LLM_SRE_AUTH_SLOW_ACCOUNTS", ge=2)
    # Failures on one account within the window that make a following success suspicious.
    burst_failures: int = _from(8, "LLM_SRE_AUTH_BURST_FAILURES", ge=2)

    @field_validator("allowlist", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


@lru_cache
def get_settings() -> SecuritySettings:
    return SecuritySettings()
