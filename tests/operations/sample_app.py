"""A user's FastAPI app for ``llm-sre docs check --app``: one route documented, one not."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings

app = FastAPI(title="voc", version="1.0.0")


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness for the load balancer."""
    return {"status": "ok"}


@app.post("/voc/chat")
async def chat(question: str) -> dict[str, str]:
    return {"answer": question}


class SampleSettings(BaseSettings):
    chroma_dir: str = Field("./data/chroma", validation_alias="CHROMA_DIR")
