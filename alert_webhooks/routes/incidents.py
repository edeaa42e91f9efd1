"""``GET /api/v1/incidents`` (filters, paging) and ``GET /api/v1/incidents/{id}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from alert_webhooks.delivery.render import view
from alert_webhooks.incidents import DeliveryState, Incident
from alert_webhooks.routes.deps import Authorized, ServiceDep
from alert_webhooks.routes.errors import errors
from alert_webhooks.schemas import DeliveryOut, IncidentOut, IncidentPage, Status
from alert_webhooks.store import IncidentFilter, call, read

router = APIRouter(prefix="/api/v1", tags=["incidents"], dependencies=Authorized, responses=errors(401))

Text = Annotated[str | None, Query(max_length=200)]


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
    sinks = service.worker.sinks

    def page() -> bytes:
        found, total = service.store.incidents(where, limit, offset)
        items = [incident_out(i, sinks) for i in found]
        return IncidentPage(items=items, total=total, limit=limit, offset=offset).model_dump_json().encode()

    return Response(await read(service.store, page), media_type="application/json")


@router.get("/incidents/{incident_id}", responses=errors(notes={404: "No such incident"}))
async def get_incident(incident_id: Annotated[str, Path(max_length=64)], service: ServiceDep) -> IncidentOut:
    """One incident with its analysis and per-sink delivery state."""
    incident = await call(service.store, service.store.incident, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return incident_out(incident, service.worker.sinks)
