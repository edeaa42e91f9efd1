"""The exporters' configuration: the only place in ``exporters`` that reads the environment.

Every field has a default, so ``llm-sre exporter`` runs with nothing set. The OpenTelemetry SDK
reads the rest of the standard ``OTEL_*`` variables (headers, timeout, export interval, service
name) itself; we only look at the endpoint to decide whether OTLP export is switched on at all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _from(default: Any, *env: str) -> Any:
    """A field read from the first set variable of ``env`` (or passed by field name)."""
    return Field(default, validation_alias=AliasChoices(*env))


class ExporterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = _from(Path("data"), "LLM_SRE_DATA_DIR")
    # None means <data_dir>/traces, so everything stays under LLM_SRE_DATA_DIR by default.
    trace_dir: Path | None = _from(None, "TRACE_DIR")
    trace_poll_seconds: float = _from(1.0, "LLM_SRE_TRACE_POLL_SECONDS")
    aggregate_seconds: float = _from(10.0, "LLM_SRE_AGGREGATE_SECONDS")
    service: str = _from("app", "LLM_SRE_SERVICE")
    max_models: int = _from(30, "LLM_SRE_MAX_MODELS")
    max_label_values: int = _from(20, "LLM_SRE_MAX_LABEL_VALUES")
    ollama_host: str = _from("http://127.0.0.1:11434", "OLLAMA_HOST")
    ollama_poll_seconds: float = _from(15.0, "LLM_SRE_OLLAMA_POLL_SECONDS")
    docker_host: str = _from("unix:///var/run/docker.sock", "DOCKER_HOST")
    docker_poll_seconds: float = _from(15.0, "LLM_SRE_DOCKER_POLL_SECONDS")
    docker_log_tail: int = _from(500, "LLM_SRE_DOCKER_LOG_TAIL")
    max_containers: int = _from(100, "LLM_SRE_MAX_CONTAINERS")
    cgroup_root: Path = _from(Path("/sys/fs/cgroup"), "LLM_SRE_CGROUP_ROOT")
    # prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself; we read it too to serve the merged view.
    multiproc_dir: Path | None = _from(None, "PROMETHEUS_MULTIPROC_DIR")
    otlp_endpoint: str | None = _from(
        None, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    # --- logs (docs/logs.md): Loki shipping and the log-pattern exporter ---
    loki_url: str | None = _from(None, "LOKI_URL")
    loki_env: str = _from("dev", "LOKI_ENV")
    loki_tenant: str | None = _from(None, "LOKI_TENANT_ID")
    loki_username: str | None = _from(None, "LOKI_USERNAME")
    loki_password: SecretStr | None = _from(None, "LOKI_PASSWORD")
    loki_queue_size: int = _from(10_000, "LOKI_QUEUE_SIZE")
    loki_batch_size: int = _from(1_000, "LOKI_BATCH_SIZE")
    loki_batch_wait_seconds: float = _from(1.0, "LOKI_BATCH_WAIT_SECONDS")
    loki_timeout_seconds: float = _from(5.0, "LOKI_TIMEOUT_SECONDS")
    loki_structured_metadata: bool = _from(True, "LOKI_STRUCTURED_METADATA")
    # The fallback chain and sampling (docs/logs.md §2); None dirs mean <data_dir>/spill, /loki-dlq.
    loki_memory_bytes: int = _from(8 << 20, "LOKI_MEMORY_BYTES")
    loki_spill_dir: Path | None = _from(None, "LOKI_SPILL_DIR")
    loki_spill_segment_bytes: int = _from(8 << 20, "LOKI_SPILL_SEGMENT_BYTES")
    loki_spill_fsync: Literal["always", "segment", "never"] = _from("segment", "LOKI_SPILL_FSYNC")
    loki_spill_max_bytes: int = _from(1 << 30, "LOKI_SPILL_MAX_BYTES")
    loki_spill_hard_bytes: int = _from(0, "LOKI_SPILL_HARD_BYTES")  # 0: 1.25 x LOKI_SPILL_MAX_BYTES
    loki_spill_min_free_bytes: int = _from(256 << 20, "LOKI_SPILL_MIN_FREE_BYTES")
    loki_drain_bytes_per_second: float = _from(2_000_000, "LOKI_DRAIN_BYTES_PER_SECOND")
    loki_dlq_dir: Path | None = _from(None, "LOKI_DLQ_DIR")
    loki_sampling: bool = _from(True, "LOKI_SAMPLING")
    loki_sampling_policy_file: Path | None = _from(None, "LOKI_SAMPLING_POLICY_FILE")
    loki_sampling_redis_url: str | None = _from(None, "LOKI_SAMPLING_REDIS_URL")
    loki_sampling_redis_key: str = _from("llm-sre:loki:sampling", "LOKI_SAMPLING_REDIS_KEY")
    log_state_dir: Path | None = _from(None, "LLM_SRE_LOG_STATE_DIR")  # None: <data_dir>/logs
    log_top_patterns: int = _from(30, "LLM_SRE_LOG_TOP_PATTERNS")
    log_poll_seconds: float = _from(1.0, "LLM_SRE_LOG_POLL_SECONDS")
    loki_query: str = _from('{service=~".+"}', "LLM_SRE_LOKI_QUERY")
    loki_poll_seconds: float = _from(5.0, "LLM_SRE_LOKI_POLL_SECONDS")

    @property
    def traces(self) -> Path:
        return self.trace_dir if self.trace_dir is not None else self.data_dir / "traces"


@lru_cache
def get_settings() -> ExporterSettings:
    return ExporterSettings()
