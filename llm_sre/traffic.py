"""Synthetic traffic from a fake RAG backend, recorded through the real instrumentation API.

The demo and the end-to-end test need an application whose failure rate they control; this is
that application: a thread making "LLM calls" and a ``/metrics`` endpoint Prometheus scrapes as
job ``llm-app``. Nothing is simulated below the instrumentation API, so what Prometheus sees is
exactly what a real app instrumented with ``exporters`` would publish.
"""

from __future__ import annotations

import random
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from exporters.instrument import Instruments

MODELS = ("qwen2.5:7b", "nomic-embed-text")


class ModelTimeout(TimeoutError):
    """What the fake backend raises for an injected failure (recorded as error_type=ModelTimeout)."""


class SyntheticTraffic:
    """Calls per second at a settable failure ratio.

    >>> traffic = SyntheticTraffic(calls_per_second=20)
    >>> traffic.start("127.0.0.1", 0); traffic.failure_ratio = 0.6; ...; traffic.stop()
    """

    def __init__(self, calls_per_second: float = 20.0, seed: int = 7) -> None:
        self.registry = CollectorRegistry()
        self.instruments = Instruments(registry=self.registry)
        self.failure_ratio = 0.0
        self.calls = 0
        self._interval = 1.0 / calls_per_second
        self._random = random.Random(seed)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="synthetic-traffic", daemon=True)
        self._server: WSGIServer | None = None
        self.port = 0

    def start(self, host: str, port: int) -> SyntheticTraffic:
        self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        self.port = int(self._server.server_port)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()

    def call_once(self) -> None:
        rnd = self._random
        fail = rnd.random() < self.failure_ratio
        try:
            with self.instruments.llm_call(provider="ollama", model=MODELS[0], operation="chat") as call:
                if fail:
                    raise ModelTimeout("model did not answer within the deadline")
                call.tokens(input=rnd.randint(200, 1800), output=rnd.randint(20, 400))
        except ModelTimeout:
            pass
        self.calls += 1

    def _run(self) -> None:
        # Event.wait paces the calls (a rate, not a synchronisation) and wakes at once on stop().
        while not self._stopping.wait(self._interval):
            self.call_once()
