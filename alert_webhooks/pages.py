"""Incident pages for the read API, built in a helper process so readers cannot slow the intake.

A 500-incident page is pure-Python work (stored JSON → models → response JSON, ~80 ms). On a reader
*thread* that work holds the GIL, and the event loop that acknowledges Alertmanager waits for it at
every switch: with 32 readers looping on ``?limit=500`` the ack p99 went from 23 ms to 304 ms on a
quiet 2-core machine (``bench/webhook_bounds.py``). In a separate process the page costs the intake
nothing but a copy of the finished bytes. The helper opens its own store (SQLite with
``mode=ro``, so a write through it fails; Redis through its own client) and only reads through it.

``LLM_SRE_READ_PROCESSES=0`` keeps pages on the reader thread (one process fewer, ~60 MiB less).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from alert_webhooks.delivery.render import view
from alert_webhooks.incidents import DeliveryState, Incident
from alert_webhooks.schemas import DeliveryOut, IncidentOut, IncidentPage
from alert_webhooks.settings import Settings
from alert_webhooks.store import IncidentFilter, Store, read

log = logging.getLogger(__name__)

HELPER_NICENESS = 10
_store: Store | None = None  # the helper process's own read-only store


def incident_out(incident: Incident, sinks: list[str]) -> IncidentOut:
    deliveries = [
        DeliveryOut(
            sink=sink,
            ref=state.ref,
            revision=state.revision,
            status=state.status,
            up_to_date=state.revision >= incident.revision,
        )
        for sink in sinks
        for state in [incident.deliveries.get(sink, DeliveryState())]
    ]
    return IncidentOut(
        id=incident.id,
        group_key=incident.group_key,
        status=incident.status,  # type: ignore[arg-type]
        severity=incident.severity,
        alertname=incident.alertname,
        service=incident.service,
        starts_at=incident.starts_at,
        ends_at=incident.ends_at,
        revision=incident.revision,
        created_at=datetime.fromtimestamp(incident.created_at, UTC),
        updated_at=datetime.fromtimestamp(incident.updated_at, UTC),
        summary=view(incident).summary,
        alerts=len(incident.notification.alerts) + incident.alerts_dropped,
        delivered=all(d.up_to_date for d in deliveries),
        deliveries=deliveries,
        analysis=incident.analysis,
    )


def render_page(store: Store, where: IncidentFilter, limit: int, offset: int, sinks: list[str]) -> bytes:
    found, total = store.incidents(where, limit, offset)
    items = [incident_out(i, sinks) for i in found]
    return IncidentPage(items=items, total=total, limit=limit, offset=offset).model_dump_json().encode()


def _open_store(settings: Settings) -> None:
    """Helper-process initializer: its own read-only store; Ctrl-C is the parent's to handle.

    The helper also runs at a lower CPU priority: when cores are scarce the kernel gives the
    service process (the intake) the CPU first, and pages take what is left."""
    global _store
    from alert_webhooks.service import build_store  # the service module imports this one

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(HELPER_NICENESS)
    _store = build_store(settings, read_only=True)


def _page_in_helper(where: IncidentFilter, limit: int, offset: int, sinks: list[str]) -> bytes:
    assert _store is not None, "initializer did not run"
    return render_page(_store, where, limit, offset, sinks)


async def incident_page(
    store: Store, pages: PageReader | None, where: IncidentFilter, limit: int, offset: int, sinks: list[str]
) -> bytes:
    """One page from the helper process; from the service's reader thread when there is none or it
    just died (a reader gets a slower page rather than an error)."""
    body = await pages.page(where, limit, offset, sinks) if pages is not None else None
    if body is None:
        body = await read(store, functools.partial(render_page, store, where, limit, offset, sinks))
    return body


class PageReader:
    """Builds incident pages in ``processes`` helper processes (spawned: the service has threads)."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self._settings = settings
        self._processes = processes
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_store,
            initargs=(self._settings,),
        )

    async def page(self, where: IncidentFilter, limit: int, offset: int, sinks: list[str]) -> bytes | None:
        """The page, or None when the helper died (a new one is started for the next page)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _page_in_helper, where, limit, offset, sinks)
        except BrokenProcessPool:
            log.error("the page helper process died (OOM killer or a signal); starting a new one")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return None

    def warm_up(self) -> None:
        """Spawn the helpers now, not on the first request (a spawn takes about a second)."""
        self._pool.submit(int)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
