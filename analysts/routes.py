"""API: ``POST /api/v1/ask``, ``GET /api/v1/clusters``, ``GET /api/v1/security/detections``.

All three are token-protected and fail closed: with no ``LLM_SRE_WEBHOOK_TOKEN`` configured they
refuse every request unless ``LLM_SRE_INSECURE=1`` (clusters and detections carry log excerpts,
sources and masked accounts; /ask spends model time). A question over ``LLM_SRE_ASK_MAX_CHARS``
gets 413, not a truncated answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from alert_webhooks.routes.deps import ServiceDep, check_read_token, request_settings
from alert_webhooks.routes.errors import errors
from alert_webhooks.wire import STRICT
from analysts.ask import ask
from analysts.settings import AnalystsSettings, for_service
from clustering.store import load_snapshot
from security.watch import load_detections


async def analysts_settings(service: ServiceDep) -> AnalystsSettings:
    return for_service(service.settings)


SettingsDep = Annotated[AnalystsSettings, Depends(analysts_settings)]


async def require_configured_token(request: Request) -> None:
    """Closed without a configured token, reads included: these answers carry log-derived
    accounts and sources and spend model time. ``LLM_SRE_INSECURE=1`` opens them."""
    settings = request_settings(request)
    if settings.webhook_token is None and not settings.insecure:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "no LLM_SRE_WEBHOOK_TOKEN configured: this endpoint is closed "
            "(set the token, or LLM_SRE_INSECURE=1 on a trusted network)",
            headers={"WWW-Authenticate": 'Bearer realm="llm-sre"'},
        )
    check_read_token(request)


router = APIRouter(
    prefix="/api/v1",
    tags=["analysts"],
    dependencies=[Depends(require_configured_token)],
    responses=errors(notes={401: "Missing or wrong token, or no token configured (fails closed)"}),
)


class AskBody(BaseModel):
    model_config = STRICT

    question: str = Field(min_length=1, description="a question, or an alert summary")
    labels: dict[str, str] | None = Field(None, max_length=64, description="route an alert by its labels")
    route_only: bool = False


class EvidenceOut(BaseModel):
    id: str
    source: str
    text: str


class AskOut(BaseModel):
    analyst: str
    why: str
    method: str
    answer: str | None = None
    evidence: list[EvidenceOut] = []
    backend: str | None = None
    missing: list[str] = []


@router.post("/ask", responses=errors(notes={413: "Body or question over the limit (LLM_SRE_ASK_MAX_CHARS)"}))
async def ask_route(body: AskBody, settings: SettingsDep, service: ServiceDep) -> AskOut:
    """Route a question (or an alert's labels) to an analyst and answer from evidence."""
    if len(body.question) > settings.ask_max_chars:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            f"question longer than {settings.ask_max_chars} characters",
        )
    return AskOut(
        **await ask(settings, body.question, body.labels, body.route_only, service.metrics.registry)
    )


@router.get("/clusters")
def clusters(
    settings: SettingsDep, service: Annotated[str | None, Query(max_length=200)] = None
) -> dict[str, Any]:
    """The latest incident clusters (optionally only those touching ``service``)."""
    snapshot = load_snapshot(settings.data_dir) or {"generatedAt": None, "embedder": None, "incidents": []}
    if service:
        snapshot["incidents"] = [i for i in snapshot.get("incidents", []) if service in i.get("services", [])]
    return snapshot


@router.get("/security/detections")
def detections(settings: SettingsDep) -> dict[str, Any]:
    """Recent credential-stuffing detections and the top failing sources."""
    return load_detections(settings.data_dir) or {"detections": [], "topOffenders": []}
