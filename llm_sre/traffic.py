"""Synthetic traffic against a fake RAG API, recorded through the real instrumentation.

The demo and the end-to-end test need an application whose failure rate they control; this is
that application: a FastAPI app (``POST /v1/chat``, ``GET /metrics``) instrumented the way the
docs tell users to — ``instrument_fastapi(app)`` for HTTP server metrics, ``Instruments`` for
the LLM call inside the route — and a thread that calls it over HTTP. Prometheus scrapes it as
job ``llm-app``. Nothing is simulated below the instrumentation API, so what Prometheus sees is
exactly what a real instrumented app would publish; only the model's answer is made up.
"""

from __future__ import annotations

import random
import threading

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from pydantic import BaseModel

from exporters.http_server import instrument_fastapi
from exporters.instrument import Instruments
from llm_sre.processes import wait_until

MODELS = ("qwen2.5:7b", "nomic-embed-text")


class ModelTimeout(TimeoutError):
    """What the fake backend raises for an injected failure (recorded as error_type=ModelTimeout)."""


class ChatRequest(BaseModel):
    question: str
    fail: bool = False  # the traffic thread decides, so the failure ratio is exact and seeded


def chat_app(registry: CollectorRegistry, instruments: Instruments, seed: int = 7) -> FastAPI:
    """The fake RAG API: one chat route that "calls the model", and ``/metrics``."""
    app = FastAPI(title="llm-sre synthetic app")
    rnd = random.Random(seed)

    @app.post("/v1/chat")
    def chat(request: ChatRequest) -> dict[str, str]:
        """Answer a question (a made-up answer; the recorded call is real)."""
        try:
            with instruments.llm_call(provider="ollama", model=MODELS[0], operation="chat") as call:
                if request.fail:
                    raise ModelTimeout("model did not answer within the deadline")
                call.tokens(input=rnd.randint(200, 1800), output=rnd.randint(20, 400))
        except ModelTimeout as exc:
            raise HTTPException(504, "the model timed out") from exc
        return {"answer": "…"}

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        # The format the scraper asks for, as prometheus-client's own server answers (Prometheus 3
        # fails a scrape whose Content-Type it cannot map; older ones want the 0.0.4 text format).
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), headers={"Content-Type": content_type})

    instrument_fastapi(app, registry=registry)
    return app


class SyntheticTraffic:
    """Calls per second at a settable failure ratio.

    >>> traffic = SyntheticTraffic(calls_per_second=20)
    >>> traffic.start("127.0.0.1", 0); traffic.failure_ratio = 0.6; ...; traffic.stop()
    """

    def __init__(self, calls_per_second: float = 20.0, seed: int = 7) -> None:
        self.registry = CollectorRegistry()
        self.instruments = Instruments(registry=self.registry)
        self.app = chat_app(self.registry, self.instruments, seed)
        self.failure_ratio = 0.0
        self.calls = 0
        self._interval = 1.0 / calls_per_second
        self._random = random.Random(seed)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="synthetic-traffic", daemon=True)
        self._server: uvicorn.Server | None = None
        self._serving: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self.port = 0

    def start(self, host: str, port: int) -> SyntheticTraffic:
        self._server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning",
                                                     lifespan="off"))
        self._serving = threading.Thread(target=self._server.run, name="synthetic-app", daemon=True)
        self._serving.start()
        wait_until(lambda: self._server is not None and self._server.started, 10, 0.05, "synthetic app")
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        self._client = httpx.Client(base_url=f"http://{host}:{self.port}", timeout=5)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._client is not None:
            self._client.close()
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            self._serving.join(timeout=5)

    def call_once(self) -> None:
        fail = self._random.random() < self.failure_ratio
        assert self._client is not None, "start() first"
        self._client.post("/v1/chat", json={"question": "how do I rotate the API key?", "fail": fail})
        self.calls += 1

    def _run(self) -> None:
        # Event.wait paces the calls (a rate, not a synchronisation) and wakes at once on stop().
        while not self._stopping.wait(self._interval):
            self.call_once()
