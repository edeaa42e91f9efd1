"""A tiny instrumented app for the multiprocess test, run under ``uvicorn --workers 2``."""

from __future__ import annotations

import os

from fastapi import FastAPI

from exporters.instrument import llm_call
from exporters.multiprocess import metrics_app

app = FastAPI()
app.mount("/metrics", metrics_app())


@app.get("/call")
def call() -> dict[str, int]:
    with llm_call(provider="ollama", model="qwen2.5:7b") as c:
        c.tokens(input=10, output=1)
    return {"pid": os.getpid()}
