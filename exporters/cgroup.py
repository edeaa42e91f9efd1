"""Read a container's cgroup v2 files: exact counters without a Docker stats round trip.

Docker's stats endpoint samples twice per call and has no OOM-kill count; the cgroup v2 files
the kernel keeps for every container have both, and reading them costs a few file reads. Used
when the exporter can see the host's cgroup tree (``/sys/fs/cgroup``, or ``LLM_SRE_CGROUP_ROOT``
when mounted elsewhere); otherwise the Docker API numbers are used. Formats are the kernel's
(Documentation/admin-guide/cgroup-v2.rst): flat-keyed ``cpu.stat``/``memory.stat``/
``memory.events``, nested-keyed ``io.stat``, single values ``memory.current``/``memory.max``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CgroupStats:
    cpu_seconds: float
    throttled_seconds: float
    memory_working_set_bytes: float
    memory_limit_bytes: float  # 0 when unlimited ("max")
    oom_kills: float
    read_bytes: float
    write_bytes: float


def _flat(path: Path) -> dict[str, int]:
    """``key value`` lines (cpu.stat, memory.stat, memory.events)."""
    result: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            result[key] = int(value)
    return result


def _io(path: Path) -> tuple[int, int]:
    """Sum rbytes/wbytes over devices: ``8:0 rbytes=1 wbytes=2 rios=3 …`` per line."""
    read = write = 0
    for line in path.read_text().splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write


def container_dir(root: Path, container_id: str) -> Path | None:
    """The container's cgroup folder under the systemd or the cgroupfs driver layout, if present."""
    for candidate in (root / "system.slice" / f"docker-{container_id}.scope", root / "docker" / container_id):
        if (candidate / "cpu.stat").is_file():
            return candidate
    return None


def read(folder: Path) -> CgroupStats:
    cpu = _flat(folder / "cpu.stat")
    memory = _flat(folder / "memory.stat")
    events = _flat(folder / "memory.events") if (folder / "memory.events").is_file() else {}
    current = int((folder / "memory.current").read_text().strip())
    limit = (folder / "memory.max").read_text().strip()
    read_bytes, write_bytes = _io(folder / "io.stat") if (folder / "io.stat").is_file() else (0, 0)
    return CgroupStats(
        cpu_seconds=cpu.get("usage_usec", 0) / 1e6,
        throttled_seconds=cpu.get("throttled_usec", 0) / 1e6,
        # As cAdvisor: usage minus inactive file cache, never below zero.
        memory_working_set_bytes=max(0, current - memory.get("inactive_file", 0)),
        memory_limit_bytes=0 if limit == "max" else int(limit),
        oom_kills=events.get("oom_kill", 0),
        read_bytes=read_bytes,
        write_bytes=write_bytes,
    )
