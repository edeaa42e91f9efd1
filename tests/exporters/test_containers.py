"""Container metrics via docker-py against a Docker Engine API replay, and cgroup v2 files on disk."""

from __future__ import annotations

import docker
import pytest
from prometheus_client import CollectorRegistry

from exporters import cgroup
from exporters.containers import ContainerExporter
from tests.exporters.fake_docker import API_ID, REDIS_ID, FakeDocker


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def write_cgroup(folder, *, oom_kill=3, limit="max"):
    """A container's cgroup v2 folder with files in the kernel's formats."""
    folder.mkdir(parents=True)
    (folder / "cpu.stat").write_text(
        "usage_usec 42000000\nuser_usec 40000000\nsystem_usec 2000000\n"
        "nr_periods 10\nnr_throttled 2\nthrottled_usec 1500000\n"
    )
    (folder / "memory.current").write_text("524288000\n")
    (folder / "memory.max").write_text(f"{limit}\n")
    (folder / "memory.stat").write_text(
        "anon 400000000\nfile 100000000\nactive_file 76000000\ninactive_file 24288000\nslab 1000\n"
    )
    (folder / "memory.events").write_text(f"low 0\nhigh 0\nmax 12\noom {oom_kill}\noom_kill {oom_kill}\n")
    (folder / "io.stat").write_text(
        "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n"
        "259:0 rbytes=300 wbytes=400 rios=3 wios=4 dbytes=0 dios=0\n"
    )


def test_cgroup_reader_parses_kernel_files(tmp_path):
    write_cgroup(tmp_path / "system.slice" / f"docker-{API_ID}.scope", limit="2147483648")
    folder = cgroup.container_dir(tmp_path, API_ID)
    assert folder is not None and cgroup.container_dir(tmp_path, REDIS_ID) is None
    stats = cgroup.read(folder)
    assert stats == cgroup.CgroupStats(
        cpu_seconds=42.0,
        throttled_seconds=1.5,
        memory_working_set_bytes=500_000_000,
        memory_limit_bytes=2_147_483_648,
        oom_kills=3,
        read_bytes=1300,
        write_bytes=2400,
    )
    write_cgroup(tmp_path / "docker" / REDIS_ID)  # cgroupfs driver layout, unlimited memory
    assert cgroup.read(cgroup.container_dir(tmp_path, REDIS_ID)).memory_limit_bytes == 0


@pytest.fixture
def engine(tmp_path):
    with FakeDocker(tmp_path / "docker.sock") as fake:
        yield fake


@pytest.fixture
def exporter(engine, tmp_path):
    registry = CollectorRegistry()
    client = docker.DockerClient(base_url=engine.url, version="1.45", timeout=5)
    write_cgroup(tmp_path / "cg" / "system.slice" / f"docker-{API_ID}.scope")
    exp = ContainerExporter(client, cgroup_root=tmp_path / "cg", clock=Clock())
    registry.register(exp)
    exp.registry = registry
    yield exp
    client.close()


def get(exporter, metric, **labels):
    return exporter.registry.get_sample_value(metric, labels)


API = {"name": "llm-api-1", "compose_service": "api"}
OLLAMA = {"name": "llm-ollama-1", "compose_service": "ollama"}
REDIS = {"name": "redis", "compose_service": ""}


def test_state_health_restarts_and_exit_codes(exporter):
    exporter.poll()
    assert get(exporter, "llm_sre_container_up", **API) == 1
    assert get(exporter, "llm_sre_container_up", **OLLAMA) == 0
    assert get(exporter, "llm_sre_container_restarts_total", **OLLAMA) == 5
    assert get(exporter, "llm_sre_container_last_exit_code", **OLLAMA) == 137
    assert get(exporter, "llm_sre_container_oom_kills_total", **OLLAMA) == 1  # Docker's OOMKilled flag
    assert get(exporter, "llm_sre_container_health_status", **API, status="healthy") == 1
    assert get(exporter, "llm_sre_container_health_status", **API, status="unhealthy") == 0
    assert get(exporter, "llm_sre_container_health_status", **REDIS, status="none") == 1
    assert get(exporter, "llm_sre_container_spec_memory_limit_bytes", **API) == 2_147_483_648
    assert get(exporter, "llm_sre_container_cpu_usage_seconds_total", **OLLAMA) is None  # not running


def test_resources_from_cgroup_when_visible_else_from_docker_stats(exporter):
    exporter.poll()
    # llm-api-1 has a cgroup folder: exact kernel counters, and its OOM-kill count.
    assert get(exporter, "llm_sre_container_cpu_usage_seconds_total", **API) == 42.0
    assert get(exporter, "llm_sre_container_oom_kills_total", **API) == 3
    assert get(exporter, "llm_sre_container_fs_writes_bytes_total", **API) == 2400
    # redis has none: Docker's stats endpoint.
    assert get(exporter, "llm_sre_container_cpu_usage_seconds_total", **REDIS) == 12.5
    assert get(exporter, "llm_sre_container_cpu_cfs_throttled_seconds_total", **REDIS) == 0.75
    assert get(exporter, "llm_sre_container_memory_working_set_bytes", **REDIS) == 250_000_000
    assert get(exporter, "llm_sre_container_network_receive_bytes_total", **REDIS) == 1_500
    assert get(exporter, "llm_sre_container_network_transmit_bytes_total", **API) == 2_000  # stats only
    assert get(exporter, "llm_sre_container_fs_reads_bytes_total", **REDIS) == 4_096_000


def test_log_error_patterns_are_counted_once(exporter, engine):
    start = exporter.clock.now
    engine.logs[API_ID] += [
        (start - 60, 2, "ERROR before the exporter started\n"),
        (start + 1, 1, "INFO request ok\n"),
        (start + 2, 2, "Traceback (most recent call last):\n"),
        (start + 3, 2, "ERROR upstream read timed out\n"),
    ]
    exporter.clock.now = start + 10
    exporter.poll()
    engine.logs[API_ID].append((start + 12, 1, '{"level": "error", "msg": "CUDA out of memory"}\n'))
    exporter.clock.now = start + 20
    exporter.poll()
    exporter.poll()  # nothing new
    assert get(exporter, "llm_sre_container_log_errors_total", **API, pattern="error") == 2
    assert get(exporter, "llm_sre_container_log_errors_total", **API, pattern="exception") == 1
    assert get(exporter, "llm_sre_container_log_errors_total", **API, pattern="timeout") == 1
    assert get(exporter, "llm_sre_container_log_errors_total", **API, pattern="oom") == 1
    assert get(exporter, "llm_sre_container_log_errors_total", **REDIS, pattern="error") == 0


def test_removed_containers_disappear_with_all_their_series(exporter, engine):
    engine.logs[REDIS_ID].append((exporter.clock.now + 1, 2, "ERROR gone soon\n"))
    exporter.clock.now += 10
    exporter.poll()
    assert get(exporter, "llm_sre_container_log_errors_total", **REDIS, pattern="error") == 1
    del engine.containers[REDIS_ID]
    exporter.poll()
    assert get(exporter, "llm_sre_container_up", **REDIS) is None
    assert get(exporter, "llm_sre_container_log_errors_total", **REDIS, pattern="error") is None
    assert REDIS_ID not in exporter._log_since  # no per-container state left behind either
    assert get(exporter, "llm_sre_container_up", **API) == 1


def test_over_the_cap_running_containers_are_exported_first(exporter, caplog):
    exporter.max_containers = 2
    exporter.poll()
    exporter.poll()
    names = {s.labels["name"] for f in exporter.collect() for s in f.samples}
    assert names == {"llm-api-1", "redis"}  # the exited llm-ollama-1 is left out
    assert [r.getMessage() for r in caplog.records] == [
        "1 containers over LLM_SRE_MAX_CONTAINERS=2 are not exported"]  # once, not every poll
