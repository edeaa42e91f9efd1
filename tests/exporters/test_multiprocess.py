"""Under several uvicorn or gunicorn worker processes, /metrics shows the sum of every worker's calls."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.multiprocess import prepare
from llm_sre.processes import ManagedProcess, free_port, wait_until

REPO = __file__.rsplit("/tests/", 1)[0]
APP = "tests.exporters.mp_app:app"


class Workers:
    """A server with two workers running ``mp_app`` on a free port."""

    def __init__(self, argv: list[str], folder: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            argv[0], [a.format(port=self.port) for a in argv], log,
            env={"PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": REPO},
            ready_url=f"{self.url}/metrics/",
        )

    def hit_every_worker(self, path: str) -> tuple[set[int], int]:
        """Call ``path`` until both workers have answered; return their pids and the call count."""
        pids: set[int] = set()
        calls = 0

        def both_served() -> bool:
            nonlocal calls
            # A new connection each time, so the kernel spreads them over both workers.
            pids.add(httpx.get(self.url + path).json()["pid"])
            calls += 1
            return len(pids) == 2

        wait_until(both_served, timeout=60, interval=0.01, what=f"both workers to serve {path}")
        return pids, calls

    def samples(self) -> dict[tuple[str, str | None], float]:
        text = httpx.get(f"{self.url}/metrics/").text
        return {(s.name, s.labels.get("gen_ai_token_type")): s.value
                for f in text_string_to_metric_families(text) for s in f.samples}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "multiproc"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"stale")  # left over from a previous run
    return folder


@pytest.fixture
def uvicorn(folder: Path, tmp_path: Path) -> Iterator[Workers]:
    assert prepare(folder) == folder and not any(folder.iterdir())  # wiped at start
    workers = Workers([sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", "{port}",
                       "--workers", "2", "--log-level", "warning"], folder, tmp_path / "uvicorn.log")
    workers.process.start(timeout=60)
    yield workers
    workers.process.stop()


@pytest.fixture
def gunicorn(folder: Path, tmp_path: Path) -> Iterator[Workers]:
    # No prepare() here: the config's on_starting hook must wipe the folder itself.
    config = f"{REPO}/tests/exporters/gunicorn_conf.py"
    workers = Workers([sys.executable, "-m", "gunicorn", APP, "-c", config,
                       "-k", "uvicorn.workers.UvicornWorker", "-w", "2", "-b", "127.0.0.1:{port}",
                       "--log-level", "warning"], folder, tmp_path / "gunicorn.log")
    workers.process.start(timeout=60)
    yield workers
    workers.process.stop()


def assert_counts_merged(workers: Workers, calls: int) -> None:
    samples = workers.samples()
    assert samples[("llm_sre_llm_calls_total", None)] == calls
    assert samples[("llm_sre_llm_tokens_total", "input")] == 10 * calls
    assert samples[("gen_ai_client_operation_duration_seconds_count", None)] == calls


@pytest.mark.e2e
def test_two_uvicorn_workers_are_merged(uvicorn: Workers, folder: Path) -> None:
    _, calls = uvicorn.hit_every_worker("/call")
    assert_counts_merged(uvicorn, calls)
    assert len(list(folder.glob("counter_*.db"))) == 2  # one file per worker, the stale one gone


@pytest.mark.e2e
def test_gunicorn_workers_merged_and_dead_workers_gauges_dropped(gunicorn: Workers, folder: Path) -> None:
    assert not (folder / "counter_999999.db").exists()  # on_starting wiped the stale file
    _, calls = gunicorn.hit_every_worker("/call")
    assert_counts_merged(gunicorn, calls)
    pids, _ = gunicorn.hit_every_worker("/entries")
    assert gunicorn.samples()[("llm_sre_cache_entries", None)] == 10  # livesum of 5 + 5

    dead = min(pids)
    os.kill(dead, signal.SIGTERM)  # gunicorn reaps it, calls child_exit, starts a replacement
    wait_until(lambda: gunicorn.samples()[("llm_sre_cache_entries", None)] == 5, timeout=30,
               what="the dead worker's live gauge to be dropped")
    assert not list(folder.glob(f"gauge_livesum_{dead}.db"))
    assert_counts_merged(gunicorn, calls)  # its counters still count: a restart loses no calls
