"""A realistic week (briefing/scenarios.py) backfilled into a real Prometheus, shared by the module
tests that read it; real Redis for the channel tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from briefing.backfill import backfilled_prometheus
from briefing.scenarios import Scenario, realistic_week
from briefing.specs import FORECASTS
from llm_sre.processes import ManagedProcess, free_port, redis_server, wait_until
from llm_sre.rules_cli import rule_files

HOUR = 3600.0


@dataclass(frozen=True)
class Week:
    scenario: Scenario
    url: str


@pytest.fixture(scope="session")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    # Ends an hour ago on the hour: inside Prometheus' retention, outside its head block.
    scenario = realistic_week(time.time() // HOUR * HOUR - HOUR, seed=7)
    recording = [p for p in rule_files() if p.parent.name == "generated" or p.name == "incidents.yml"]
    with backfilled_prometheus(
        scenario.openmetrics, recording, scenario.start, scenario.end, tmp_path_factory.mktemp("week"),
        reads=[f.expr for f in FORECASTS],
    ) as url:  # fmt: skip
        yield Week(scenario, url)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc: ManagedProcess = redis_server(tmp_path / "redis", port, tmp_path).start()
    client = redis.Redis(port=port)
    wait_until(lambda: pings(client), 10, what="redis")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.stop()


def pings(client: redis.Redis) -> bool:
    """Redis answers (it starts listening a moment after the process starts)."""
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
