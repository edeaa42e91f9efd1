"""How a Loki handler is configured: its options, and the ``LOKI_*`` settings that fill them.

Kept apart from the handler so the configuration surface (what docs/logs.md lists) reads in one
place; :mod:`exporters.loki` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from exporters.sampling import SamplingPolicy
from exporters.sampling_policy import DEFAULT_KEY
from exporters.spill import Budget, Fsync

if TYPE_CHECKING:  # settings are only needed by the *_settings helpers
    from exporters.settings import ExporterSettings


@dataclass(frozen=True)
class LokiOptions:
    """Tuning knobs; defaults suit one app process sending to one Loki."""

    queue_size: int = 10_000
    memory_bytes: int = 8 << 20
    high_water: float = 0.5
    batch_size: int = 1_000
    batch_bytes: int = 1_000_000
    batch_wait: float = 1.0
    timeout: float = 5.0
    backoff: float = 0.5
    max_backoff: float = 30.0
    close_timeout: float = 5.0
    # Loki's default max_line_size is 256 KB; longer lines are rejected, so we cut them first.
    max_line_bytes: int = 256 * 1024 - 1024
    metadata_fields: Sequence[str] = ("trace_id", "span_id", "level")
    structured_metadata: bool = True
    tenant: str | None = None
    # Basic auth (Grafana Cloud, an auth proxy); kept out of repr so it never reaches a log.
    auth: tuple[str, str] | None = field(default=None, repr=False)
    spill_dir: Path = Path("data/spill")
    segment_bytes: int = 8 << 20
    fsync: Fsync = "segment"
    budget: Budget = field(default_factory=Budget)
    drain_bytes_per_second: float = 2_000_000
    dlq_dir: Path | None = None  # None: <spill_dir>/../loki-dlq
    sampling: SamplingPolicy | None = field(default_factory=SamplingPolicy)  # None: never sample
    policy_file: Path | None = None
    policy_redis_url: str | None = None
    policy_redis_key: str = DEFAULT_KEY


def options_from_settings(settings: ExporterSettings) -> LokiOptions:
    """``LokiOptions`` from the ``LOKI_*`` variables (docs/logs.md §2 lists them)."""
    spill_dir = settings.loki_spill_dir or settings.data_dir / "spill"
    return LokiOptions(
        queue_size=settings.loki_queue_size,
        memory_bytes=settings.loki_memory_bytes,
        batch_size=settings.loki_batch_size,
        batch_wait=settings.loki_batch_wait_seconds,
        timeout=settings.loki_timeout_seconds,
        structured_metadata=settings.loki_structured_metadata,
        tenant=settings.loki_tenant,
        auth=basic_auth(settings),
        spill_dir=spill_dir,
        segment_bytes=settings.loki_spill_segment_bytes,
        fsync=settings.loki_spill_fsync,
        budget=Budget(settings.loki_spill_max_bytes, settings.loki_spill_hard_bytes,
                      settings.loki_spill_min_free_bytes),
        drain_bytes_per_second=settings.loki_drain_bytes_per_second,
        dlq_dir=settings.loki_dlq_dir or settings.data_dir / "loki-dlq",
        sampling=SamplingPolicy() if settings.loki_sampling else None,
        policy_file=settings.loki_sampling_policy_file,
        policy_redis_url=settings.loki_sampling_redis_url,
        policy_redis_key=settings.loki_sampling_redis_key,
    )


def basic_auth(settings: ExporterSettings) -> tuple[str, str] | None:
    """``LOKI_USERNAME``/``LOKI_PASSWORD`` as an httpx auth tuple, or None."""
    if not settings.loki_username:
        return None
    password = settings.loki_password.get_secret_value() if settings.loki_password else ""
    return settings.loki_username, password


def query_client(settings: ExporterSettings) -> httpx.Client:
    """An HTTP client for reading from Loki with the same tenant and credentials as shipping."""
    headers = {"X-Scope-OrgID": settings.loki_tenant} if settings.loki_tenant else {}
    return httpx.Client(timeout=settings.loki_timeout_seconds, auth=basic_auth(settings), headers=headers)
