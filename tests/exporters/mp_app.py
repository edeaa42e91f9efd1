"""A tiny instrumented app for the multiprocess tests, run under several uvicorn or gunicorn workers."""

from __future__ import annotations

import os

from fastapi import FastAPI

from exporters.instrument import default, llm_call
from exporters.multiprocess import metrics_app

app = FastAPI()
app.mount("/metrics", metrics_app())


@app.get("/call")
def call() -> dict[str, int]:
    with llm_call(provider="ollama", model="qwen2.5:7b") as c:
        c.tokens(input=10, output=1)
    return {"pid": os.getpid()}


@app.get("/entries")
def entries() -> dict[str, int]:
    """Set a live gauge (merged as ``livesum``): each worker reports 5 cache entries."""
    default().cache_entries("embedding", 5)
    return {"pid": os.getpid()}
