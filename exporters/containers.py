"""Container health from the Docker API, named to sit beside cAdvisor's series.

cAdvisor has CPU, memory and I/O but no restart count, exit code, health status or OOM-kill
count; this exporter reads those from ``docker inspect`` (through docker-py), and the resource
counters from the container's cgroup v2 files when the host's cgroup tree is visible, else from
Docker's one-shot stats. It also counts error lines in each container's recent logs by named
pattern (``docker logs --since <last poll>``), so a crash loop's "Traceback" shows up even
without a log pipeline.

Label values are bounded by what exists: every series, the log-error counts included, is built
from the last poll's container list, so a removed container's series disappear with it (as in
cAdvisor) instead of accumulating, one-off ``docker compose run`` names and all. A host with more
than ``max_containers`` containers exports the running ones first and logs how many it left out.

The poll runs on its own schedule (Docker calls can be slow); Prometheus scrapes read the last
snapshot through :meth:`ContainerExporter.collect`::

    exporter = ContainerExporter(docker.DockerClient(base_url="unix:///var/run/docker.sock"), inst)
    registry.register(exporter)
    exporter.poll()
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import NotFound
from prometheus_client.core import Metric

from exporters import cgroup
from exporters.catalogue import SPECS

log = logging.getLogger(__name__)
COMPOSE_SERVICE = "com.docker.compose.service"
HEALTH = SPECS["llm_sre_container_health_status"].values["status"]

# Named error patterns; the name is the label value, so the set stays small and fixed.
LOG_PATTERNS: dict[str, str] = {
    "error": r"\b(?:ERROR|FATAL|CRITICAL)\b|\blevel=(?:error|fatal)\b"
             r"|\"level\":\s*\"(?:error|fatal|critical)\"",
    "exception": r"Traceback \(most recent call last\)|^\s*panic:|\bException in thread\b",
    "oom": r"(?i)out of memory|\bOOM\b|OutOfMemoryError",
    "timeout": r"(?i)\btimed out\b|deadline exceeded|\btimeout\b",
}

# Resource series read from cgroup files or Docker stats, in ContainerSample attribute order.
RESOURCES: dict[str, str] = {
    "cpu_seconds": "llm_sre_container_cpu_usage_seconds_total",
    "memory_working_set_bytes": "llm_sre_container_memory_working_set_bytes",
    "throttled_seconds": "llm_sre_container_cpu_cfs_throttled_seconds_total",
    "rx_bytes": "llm_sre_container_network_receive_bytes_total",
    "tx_bytes": "llm_sre_container_network_transmit_bytes_total",
    "read_bytes": "llm_sre_container_fs_reads_bytes_total",
    "write_bytes": "llm_sre_container_fs_writes_bytes_total",
}


@dataclass
class ContainerSample:
    name: str
    service: str
    up: bool
    restarts: int
    exit_code: int
    health: str
    memory_limit_bytes: float
    oom_kills: float
    resources: dict[str, float] = field(default_factory=dict)
    log_errors: dict[str, int] = field(default_factory=dict)  # pattern -> lines since the exporter started


def _stats_resources(stats: Mapping[str, Any]) -> dict[str, float]:
    """Resource counters from Docker's stats JSON (cgroup v1 and v2 field names)."""
    cpu = stats.get("cpu_stats") or {}
    memory = stats.get("memory_stats") or {}
    mem_stats = memory.get("stats") or {}
    inactive = mem_stats.get("inactive_file", mem_stats.get("total_inactive_file", 0))
    io = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    networks = (stats.get("networks") or {}).values()
    return {
        "cpu_seconds": (cpu.get("cpu_usage") or {}).get("total_usage", 0) / 1e9,
        "memory_working_set_bytes": max(0, memory.get("usage", 0) - inactive),
        "throttled_seconds": (cpu.get("throttling_data") or {}).get("throttled_time", 0) / 1e9,
        "rx_bytes": sum(n.get("rx_bytes", 0) for n in networks),
        "tx_bytes": sum(n.get("tx_bytes", 0) for n in networks),
        "read_bytes": sum(e.get("value", 0) for e in io if str(e.get("op", "")).lower() == "read"),
        "write_bytes": sum(e.get("value", 0) for e in io if str(e.get("op", "")).lower() == "write"),
    }


class ContainerExporter:
    """Polls Docker into a snapshot (a sidecar ``Source``) and serves it (a prometheus ``Collector``)."""

    name = "docker"

    def __init__(self, client: Any, *, interval: float = 15.0, log_tail: int = 500,
                 cgroup_root: Path | None = None, max_containers: int = 100,
                 patterns: Mapping[str, str] = LOG_PATTERNS, clock: Callable[[], float] = time.time) -> None:
        self.client = client  # a docker.DockerClient
        self.interval = interval
        self.log_tail = log_tail
        self.cgroup_root = cgroup_root
        self.max_containers = max_containers
        self.patterns = {name: re.compile(rx, re.MULTILINE) for name, rx in patterns.items()}
        self.clock = clock
        self._started = clock()
        # Per container id, pruned to the listed containers at every poll.
        self._log_since: dict[str, float] = {}
        self._log_errors: dict[str, dict[str, int]] = {}
        self._left_out = 0
        self._snapshot: list[ContainerSample] = []
        self._lock = threading.Lock()

    # --- polling ---------------------------------------------------------------------------------
    def poll(self) -> None:
        listed = self.client.containers.list(all=True)
        # Running containers first: with too many, the stopped leftovers are the ones to drop.
        listed.sort(key=lambda c: (c.status != "running", c.name))
        self._report_left_out(len(listed) - self.max_containers)
        samples = []
        for container in listed[: self.max_containers]:
            try:
                samples.append(self._sample(container))
            except NotFound:  # removed between the listing and its stats or logs: just skip it
                continue
        kept = {container.id for container in listed[: self.max_containers]}
        for state in (self._log_since, self._log_errors):
            for gone in state.keys() - kept:
                del state[gone]
        with self._lock:
            self._snapshot = samples

    def _report_left_out(self, left_out: int) -> None:
        left_out = max(0, left_out)
        if left_out != self._left_out:  # log changes, not every poll
            log.warning("%d containers over LLM_SRE_MAX_CONTAINERS=%d are not exported",
                        left_out, self.max_containers)
        self._left_out = left_out

    def _sample(self, container: Any) -> ContainerSample:
        attrs = container.attrs
        state = attrs.get("State") or {}
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        health = (state.get("Health") or {}).get("Status") or "none"
        sample = ContainerSample(
            name=str(attrs.get("Name") or container.name).lstrip("/"),
            service=str(labels.get(COMPOSE_SERVICE, "")),
            up=bool(state.get("Running")),
            restarts=int(attrs.get("RestartCount") or 0),
            exit_code=int(state.get("ExitCode") or 0),
            health=health if health in HEALTH else "none",
            memory_limit_bytes=float((attrs.get("HostConfig") or {}).get("Memory") or 0),
            oom_kills=1.0 if state.get("OOMKilled") else 0.0,
        )
        if sample.up:
            self._read_resources(container, sample)
            self._count_log_errors(container)
        sample.log_errors = dict(self._log_errors.get(container.id, {}))
        return sample

    def _read_resources(self, container: Any, sample: ContainerSample) -> None:
        stats = container.stats(stream=False, one_shot=True)
        sample.resources = _stats_resources(stats)
        folder = cgroup.container_dir(self.cgroup_root, container.id) if self.cgroup_root else None
        if folder is not None:  # exact kernel counters, and the only source of an OOM-kill count
            exact = cgroup.read(folder)
            sample.resources.update(cpu_seconds=exact.cpu_seconds, throttled_seconds=exact.throttled_seconds,
                                    memory_working_set_bytes=exact.memory_working_set_bytes,
                                    read_bytes=exact.read_bytes, write_bytes=exact.write_bytes)
            sample.oom_kills = max(sample.oom_kills, exact.oom_kills)

    def _count_log_errors(self, container: Any) -> None:
        # Only lines newer than the last poll (or than our start): restarts must not recount history.
        since = self._log_since.get(container.id, self._started)
        until = self.clock()
        raw = container.logs(stdout=True, stderr=True, since=since, until=until, tail=self.log_tail)
        self._log_since[container.id] = until
        lines = (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)).splitlines()
        counts = self._log_errors.setdefault(container.id, dict.fromkeys(self.patterns, 0))
        for pattern, regex in self.patterns.items():
            counts[pattern] += sum(1 for line in lines if regex.search(line))

    # --- collecting ------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        with self._lock:
            snapshot = list(self._snapshot)
        families = {name: SPECS[name].family() for name in (
            "llm_sre_container_up", "llm_sre_container_restarts_total", "llm_sre_container_oom_kills_total",
            "llm_sre_container_last_exit_code", "llm_sre_container_health_status",
            "llm_sre_container_spec_memory_limit_bytes", "llm_sre_container_log_errors_total",
            *RESOURCES.values())}
        for s in snapshot:
            key = [s.name, s.service]
            families["llm_sre_container_up"].add_metric(key, 1.0 if s.up else 0.0)
            families["llm_sre_container_restarts_total"].add_metric(key, s.restarts)
            families["llm_sre_container_oom_kills_total"].add_metric(key, s.oom_kills)
            families["llm_sre_container_last_exit_code"].add_metric(key, s.exit_code)
            families["llm_sre_container_spec_memory_limit_bytes"].add_metric(key, s.memory_limit_bytes)
            for status in HEALTH:
                families["llm_sre_container_health_status"].add_metric([*key, status],
                                                                       1.0 if status == s.health else 0.0)
            for attr, metric in RESOURCES.items():
                if attr in s.resources:
                    families[metric].add_metric(key, s.resources[attr])
            for pattern, count in s.log_errors.items():
                families["llm_sre_container_log_errors_total"].add_metric([*key, pattern], count)
        yield from families.values()
