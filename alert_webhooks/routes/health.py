"""Liveness, readiness and the service's own Prometheus metrics."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from alert_webhooks.routes.deps import ServiceDep
from alert_webhooks.store import call

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (no dependencies checked: a restart would not fix them)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Store unreachable or worker not running"}})
async def readyz(service: ServiceDep) -> JSONResponse:
    """Ready when the store answers and the worker loop runs."""
    try:
        store_ok = await asyncio.to_thread(service.store.ping)
    except Exception:  # any backend failure means "not ready", never a 500
        store_ok = False
    checks = {"store": store_ok, "worker": service.worker.running}
    code = status.HTTP_200_OK if all(checks.values()) else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"ready": all(checks.values()), "checks": checks}, status_code=code)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(service: ServiceDep) -> Response:
    """Prometheus exposition of the service's registry; queue gauges are read from the store now."""
    stats = await call(service.store, service.store.stats, time.time())
    service.metrics.observe_queue(stats)
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)
