"""``GET /api/v1/incidents`` (filters, paging) and ``GET /api/v1/incidents/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from alert_webhooks.pages import incident_out, incident_page
from alert_webhooks.routes.deps import Authorized, ServiceDep
from alert_webhooks.routes.errors import errors
from alert_webhooks.schemas import IncidentOut, IncidentPage, Status
from alert_webhooks.store import IncidentFilter, call

router = APIRouter(prefix="/api/v1", tags=["incidents"], dependencies=Authorized, responses=errors(401))

Text = Annotated[str | None, Query(max_length=200)]


@router.get("/incidents", response_model=IncidentPage)
async def list_incidents(
    service: ServiceDep,
    status: Status | None = None,
    severity: Text = None,
    alertname: Text = None,
    service_label: Annotated[str | None, Query(alias="service", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Incidents, newest first; filter by status, severity, alert name or service."""
    where = IncidentFilter(status=status, severity=severity, alertname=alertname, service=service_label)
    body = await incident_page(service.store, service.pages, where, limit, offset, service.worker.sinks)
    return Response(body, media_type="application/json")


@router.get("/incidents/{incident_id}", responses=errors(notes={404: "No such incident"}))
async def get_incident(incident_id: Annotated[str, Path(max_length=64)], service: ServiceDep) -> IncidentOut:
    """One incident with its analysis and per-sink delivery state."""
    incident = await call(service.store, service.store.incident, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return incident_out(incident, service.worker.sinks)
