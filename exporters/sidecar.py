"""Run sidecar sources (trace files, Ollama, Docker) on their own schedules and serve ``/metrics``.

A source is anything with ``name``, ``interval`` and ``poll()``. Each runs in its own thread so a
slow Docker daemon cannot delay trace counting; a failing poll is counted in
``llm_sre_exporter_collect_errors_total{source}`` and retried at the next tick, never fatal::

    sidecar = Sidecar(registry, [TraceSource(...), OllamaPoller(...)])
    sidecar.serve("127.0.0.1", 9464)      # starts the threads and the HTTP server
    ...
    sidecar.stop()

Both sidecar commands (``llm-sre exporter``, ``llm-sre logs export``) share their serving options
and their serve-or-print main through :func:`add_serve_arguments` and :func:`run_command`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from exporters.catalogue import metrics
from exporters.redact import redact

log = logging.getLogger(__name__)


class Source(Protocol):
    name: str
    interval: float

    def poll(self) -> None: ...


class Sidecar:
    """``save`` runs once the sources are no longer read (after ``stop()``, and after the single
    poll of ``exposition()``), so state a source keeps in memory survives the next start."""

    def __init__(self, registry: CollectorRegistry, sources: Sequence[Source], *,
                 save: Callable[[], None] | None = None) -> None:
        self.registry = registry
        self.sources = list(sources)
        self._save = save
        self._errors = metrics(registry)["llm_sre_exporter_collect_errors_total"]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: object | None = None
        self.port = 0

    def poll_once(self, source: Source) -> bool:
        try:
            source.poll()
            return True
        except Exception as exc:  # a source failure must not kill the exporter; it is counted and logged
            # One line, masked: a URL or an error body may carry credentials.
            log.warning("polling %s failed: %s", source.name, redact(f"{type(exc).__name__}: {exc}"))
            self._errors.labels(source=source.name).inc()
            return False

    def poll_all(self) -> None:
        for source in self.sources:
            self.poll_once(source)

    def _loop(self, source: Source) -> None:
        self.poll_once(source)
        # Event.wait paces the polls and returns at once when stop() is called.
        while not self._stop.wait(source.interval):
            self.poll_once(source)

    def start(self) -> None:
        for source in self.sources:
            thread = threading.Thread(target=self._loop, args=(source,), name=f"poll-{source.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def serve(self, host: str, port: int) -> int:
        """Start the pollers and the HTTP server; return the bound port (useful with port 0)."""
        self.start()
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        self.port = int(server.server_port)
        return self.port

    def wait(self) -> None:
        self._stop.wait()

    def exposition(self) -> str:
        """Poll every source once and render /metrics (``--once``)."""
        self.poll_all()
        if self._save is not None:
            self._save()
        return generate_latest(self.registry).decode()

    def run(self, host: str, port: int, name: str) -> None:
        """Serve until Ctrl-C or SIGTERM (llm-sre up, systemd, docker stop), then stop cleanly."""
        bound = self.serve(host, port)
        print(f"{name}: serving http://{host}:{bound}/metrics", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        try:
            self.wait()
        finally:
            self.stop()

    def stop(self) -> None:
        # run() calls this from the SIGTERM handler and again on its way out: the second is a no-op.
        if self._stop.is_set():
            return
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()  # type: ignore[attr-defined]
            self._server.server_close()  # type: ignore[attr-defined]
        for thread in self._threads:
            thread.join(timeout=5)
        if self._save is not None:
            self._save()


def add_serve_arguments(parser: argparse.ArgumentParser, port: int) -> None:
    """``--host``, ``--port`` and ``--once`` for a command whose ``func`` ends in :func:`run_command`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"port to listen on (default {port})")
    parser.add_argument("--once", action="store_true",
                        help="poll every source once, print the exposition to stdout and exit")


def run_command(sidecar: Sidecar, args: argparse.Namespace, name: str) -> int:
    """Print one exposition (``--once``) or serve until stopped."""
    if args.once:
        sys.stdout.write(sidecar.exposition())
    else:
        sidecar.run(args.host, args.port, name)
    return 0
