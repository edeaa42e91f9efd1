"""Incident pages from the helper process: same bytes as in-process, read-only, survives a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from alert_webhooks.incidents import DeliveryState
from alert_webhooks.pages import PageReader, incident_page, render_page
from alert_webhooks.schemas import Notification
from alert_webhooks.service import STORE_FILE
from alert_webhooks.settings import Settings
from alert_webhooks.sqlite_store import SqliteStore, StoreUnavailable
from alert_webhooks.store import IncidentFilter
from llm_sre.processes import wait_until
from tests.webhooks.conftest import notification

NOW = 1_800_000_000.0
SINKS = ["slack", "grafana"]


def helper_pids() -> set[int]:
    """Our spawned multiprocessing children (the page helpers)."""
    pids = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                pids.add(int(child))
    return pids


@pytest.fixture
def filled(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / STORE_FILE)
    for i in range(30):
        body = notification(group=f"g{i}", severity="warning" if i % 3 else "critical", alerts=1 + i % 4)
        store.ingest(Notification.model_validate(body), NOW + i)
    first = store.incidents(IncidentFilter(), 1, 29)[0][0]
    store.save_delivery(first.id, "slack", DeliveryState("webhook", first.revision, "firing"))
    return store


def test_a_read_only_store_reads_but_never_writes(filled: SqliteStore, tmp_path: Path) -> None:
    reader = SqliteStore(tmp_path / STORE_FILE, read_only=True)
    try:
        assert reader.incidents(IncidentFilter(), 5, 0)[1] == 30
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.ingest(Notification.model_validate(notification(group="new")), NOW)
    finally:
        reader.close()
    assert filled.incidents(IncidentFilter(), 1, 0)[1] == 30  # nothing was written
    with pytest.raises(StoreUnavailable, match=r"missing\.db"):
        SqliteStore(tmp_path / "missing.db", read_only=True)


def test_helper_pages_equal_in_process_pages_and_a_killed_helper_is_replaced(
    filled: SqliteStore, tmp_path: Path
) -> None:
    pages = PageReader(Settings(data_dir=tmp_path), processes=1)

    async def scenario() -> None:
        for where, limit, offset in [
            (IncidentFilter(), 500, 0),
            (IncidentFilter(severity="critical"), 4, 2),
            (IncidentFilter(status="resolved"), 10, 0),
        ]:
            expected = render_page(filled, where, limit, offset, SINKS)
            assert await incident_page(filled, pages, where, limit, offset, SINKS) == expected
        (victim,) = helper_pids()
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in helper_pids(), timeout=10)
        # The page in flight when the helper is found dead comes from the reader thread ...
        expected = render_page(filled, IncidentFilter(), 50, 0, SINKS)
        assert await incident_page(filled, pages, IncidentFilter(), 50, 0, SINKS) == expected
        # ... and the next from a new helper.
        assert await incident_page(filled, pages, IncidentFilter(), 50, 0, SINKS) == expected
        assert helper_pids() and victim not in helper_pids()

    try:
        asyncio.run(scenario())
    finally:
        pages.close()
    assert helper_pids() == set()
