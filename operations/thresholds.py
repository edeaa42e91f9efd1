"""The checklist file: thresholds, the endpoints to probe, required variables and the smoke query.

Every threshold has a documented default (docs/operations.md, generated from :data:`DEFAULTS`), so
the file only lists what a team wants different::

    limits:
      error_ratio: {warn: 0.02, fail: 0.1}
    endpoints:
      - {name: api, url: "http://app:8000/health"}
    smoke:
      url: http://app:8000/v1/chat/completions
      body: {model: qwen2.5:7b, messages: [{role: user, content: "ping"}]}
      field: choices.0.message.content
      expect: pong
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from operations.yamlfile import Regex, load_model


class Status(IntEnum):
    """Also the value of ``llm_sre_check_status``: higher is worse, so ``max()`` aggregates."""

    PASS = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class Default:
    """A threshold's built-in value; ``above``: the value is bad when high, else when low."""

    above: bool
    warn: float | None
    fail: float | None
    unit: str = ""


# Ratios are 0..1. ``None`` switches that level off.
DEFAULTS: dict[str, Default] = {
    "webhook_dead_letters": Default(True, 1, None),
    "prometheus_targets_down": Default(True, None, 1),
    "trace_age_minutes": Default(True, 60, 1440, "min"),
    "data_dir_free_ratio": Default(False, 0.15, 0.05),
    "model_memory_bytes": Default(True, None, None, "B"),
    "error_ratio": Default(True, 0.01, 0.05),
    "timeout_ratio": Default(True, 0.005, 0.02),
    "rag_hit_rate": Default(False, 0.7, 0.5),
    "rag_hit_rate_drop": Default(True, 0.1, 0.25),
    "rerank_rate_drop": Default(True, 0.1, 0.3),
    "cache_hit_rate": Default(False, None, None),
    "cache_hit_rate_drop": Default(True, 0.1, 0.3),
    "vector_store_weekly_growth": Default(True, 0.5, None),
    "vector_store_bytes": Default(True, None, None, "B"),
    "stale_trace_files": Default(True, 1, None),
    "smoke_latency_seconds": Default(True, 10, 30, "s"),
}


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warn: float | None = None
    fail: float | None = None


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    url: str = Field(pattern=r"^https?://")


class SmokeQuery(BaseModel):
    """A request whose answer must carry ``field`` (dotted path; list indexes as numbers)."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(pattern=r"^https?://")
    method: Literal["GET", "POST"] = "POST"
    body: dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    field: str = Field(min_length=1)
    expect: str | None = None  # a substring of the field's text
    expect_pattern: Regex | None = None  # or a regular expression searched in it


class ChecklistFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: dict[str, Limit] = Field(default_factory=dict)
    endpoints: list[Endpoint] = Field(default_factory=list)
    required_env: list[str] = Field(default_factory=list)
    smoke: SmokeQuery | None = None
    model: str | None = None  # expected model tag; unset: OLLAMA_MODEL / LLM_SRE_OPENAI_MODEL
    model_digest: str | None = Field(None, pattern=r"^[0-9a-f]{6,64}$")
    docs_dir: Path | None = None
    vector_store_dir: Path | None = None
    retention_days: float = Field(30, gt=0)
    fail_severities: list[str] = Field(default_factory=lambda: ["critical", "page"])

    @field_validator("limits")
    @classmethod
    def _known(cls, value: dict[str, Limit]) -> dict[str, Limit]:
        unknown = sorted(set(value) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown limit {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        return value

    @field_validator("required_env")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v)]
        if bad:
            raise ValueError(f"not an environment variable name: {', '.join(bad)}")
        return value

    def limit(self, name: str) -> Threshold:
        """The default for ``name`` with whatever the file sets on top (``warn: null`` turns it off)."""
        default = DEFAULTS[name]
        warn, fail = default.warn, default.fail
        if (override := self.limits.get(name)) is not None:
            warn = override.warn if "warn" in override.model_fields_set else warn
            fail = override.fail if "fail" in override.model_fields_set else fail
        return Threshold(name, default.above, warn, fail, default.unit)


@dataclass(frozen=True)
class Threshold:
    name: str
    above: bool
    warn: float | None
    fail: float | None
    unit: str = ""

    def grade(self, value: float) -> Status:
        def crossed(level: float | None) -> bool:
            return level is not None and (value >= level if self.above else value <= level)

        return Status.FAIL if crossed(self.fail) else Status.WARN if crossed(self.warn) else Status.PASS

    def __str__(self) -> str:
        sign = "≥" if self.above else "≤"
        parts = [f"{lvl} {sign} {fmt(v, self.unit)}" for lvl, v in (("warn", self.warn), ("fail", self.fail))
                 if v is not None]
        return ", ".join(parts) or "none set"


def fmt(value: float, unit: str = "") -> str:
    """Short human form: ratios as given, bytes with a binary prefix."""
    if unit == "B":
        for prefix in ("", "Ki", "Mi", "Gi", "Ti"):
            if abs(value) < 1024 or prefix == "Ti":
                return f"{value:.0f} B" if not prefix else f"{value:.1f} {prefix}B"
            value /= 1024
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def load(path: Path | None) -> ChecklistFile:
    """The checklist file at ``path`` (ConfigError with line and reason), or the defaults."""
    return ChecklistFile() if path is None else load_model(path, ChecklistFile)
