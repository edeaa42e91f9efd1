"""Findings the incident carries itself: alert labels and annotations, passed-in metrics, log lines.

Metric findings are weighted by what an on-call engineer would look at first: a replication
link that is ``down`` or memory at 100% of ``maxmemory`` outranks a healthy counter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from alert_webhooks.analysis.logpatterns import compress
from alert_webhooks.analysis.sources import Finding, fmt, pattern_findings

if TYPE_CHECKING:
    from alert_webhooks.analysis.case import Case, Scalar

# The INFO fields worth evidence (a full INFO dump has ~150); order is the display order.
REDIS_FIELDS = (
    "role", "redis_version", "used_memory", "maxmemory", "maxmemory_policy", "used_memory_rss",
    "mem_fragmentation_ratio", "evicted_keys", "connected_clients", "maxclients", "rejected_connections",
    "blocked_clients", "master_link_status", "master_last_io_seconds_ago", "master_sync_in_progress",
    "connected_slaves", "master_repl_offset", "cluster_state", "cluster_slots_fail", "cluster_slots_pfail",
    "cluster_known_nodes", "rdb_last_bgsave_status", "rdb_changes_since_last_save", "aof_enabled",
    "aof_last_bgrewrite_status", "aof_last_write_status", "instantaneous_ops_per_sec",
    "total_connections_received",
)  # fmt: skip

# (used, limit): their ratio is a finding of its own.
_RATIOS = (("used_memory", "maxmemory"), ("connected_clients", "maxclients"))
_BAD_VALUES = {"down", "fail", "err", "error", "failed", "unhealthy"}
_BAD_WHEN_POSITIVE = {"rejected_connections", "cluster_slots_fail", "cluster_slots_pfail", "evicted_keys"}


def redis_fields(info: Mapping[str, Scalar]) -> dict[str, Scalar]:
    return {k: info[k] for k in REDIS_FIELDS if k in info}


def _number(value: Scalar) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _show(value: Scalar) -> str:
    num = _number(value)
    return fmt(num) if num is not None and not isinstance(value, bool) else str(value)


def metric_findings(metrics: Mapping[str, Scalar], limit: int = 16) -> list[Finding]:
    findings: list[Finding] = []
    for used, cap in _RATIOS:
        u, c = _number(metrics.get(used, "")), _number(metrics.get(cap, ""))
        if u is not None and c:
            pct = round(100 * u / c)
            text = f"{used}={fmt(u)} is {pct}% of {cap}={fmt(c)}"
            findings.append(Finding("metrics", text, 3.0 if pct >= 90 else 1.0 if pct >= 75 else 0.2))
    for key, value in list(metrics.items())[:limit]:
        num = _number(value)
        bad = str(value).lower() in _BAD_VALUES or (key in _BAD_WHEN_POSITIVE and (num or 0) > 0)
        findings.append(Finding("metrics", f"{key}={_show(value)}", 2.5 if bad else 0.1))
    return findings


def alert_findings(case: Case, limit: int = 5) -> list[Finding]:
    """One finding per alert: status, start, labels and annotations, as Alertmanager sent them."""
    findings = []
    for alert in case.alerts[:limit]:
        labels = " ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        notes = " ".join(f"{k}: {v}." for k, v in sorted(alert.annotations.items()))
        since = alert.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        findings.append(
            Finding("alert", f"alert {alert.name} {alert.status} since {since}; {labels}; {notes}", 1.0)
        )
    if len(case.alerts) > limit:
        findings.append(Finding("alert", f"{len(case.alerts) - limit} more alerts in this group", 0.0))
    return findings


def log_findings(lines: Iterable[str]) -> list[Finding]:
    return pattern_findings("logs", compress(lines))
