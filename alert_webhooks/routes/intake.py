"""``POST /alertmanager``: authenticate → validate → persist → ack. Nothing slow before the ack."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError

from alert_webhooks.masking import masked
from alert_webhooks.routes.deps import ServiceDep, require_token
from alert_webhooks.routes.errors import errors
from alert_webhooks.schemas import IntakeResponse, Notification
from alert_webhooks.store import call

router = APIRouter(tags=["intake"])

_RESPONSES = errors(
    403,
    413,
    notes={
        401: "Missing or wrong webhook token",
        422: "Malformed JSON or a payload that is not Alertmanager v4 (the field is named)",
    },
)


@router.post(
    "/alertmanager",
    dependencies=[Depends(require_token)],
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Notification"}}},
        }
    },
)
async def receive_notification(request: Request, service: ServiceDep) -> IntakeResponse:
    """Persist one Alertmanager v4 notification; duplicates are acknowledged and ignored."""
    # Parsed by hand (not as a body parameter) so that auth runs before any parsing and pydantic reads
    # the bytes directly; the schema is still published (see app.openapi).
    body = await request.body()
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        service.metrics.notifications.labels(outcome="rejected").inc()
        # Each error names its field by ``loc`` (e.g. ["alerts", 0, "startsAt"]); inputs are not echoed.
        detail = exc.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(422, detail) from None
    # Masked before it is persisted: the store, the API, the analyst and every sink see only this copy.
    result = await call(service.store, service.store.ingest, masked(notification), time.time())
    service.metrics.notifications.labels(outcome=result.outcome).inc()
    if result.opened:
        service.metrics.incident_opened(result.severity)
    if result.outcome == "accepted":
        service.worker.intake_arrived()
    return IntakeResponse(
        status="duplicate" if result.outcome == "duplicate" else "accepted", incident_id=result.incident_id
    )
