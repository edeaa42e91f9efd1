"""``POST /api/v1/slack/interactions``: on-call's 👍 / 👎 / "wrong cause" clicks from Slack.

Slack signs every request (HMAC-SHA256 of ``v0:<timestamp>:<body>`` with the app's signing
secret); slack-sdk's ``SignatureVerifier`` checks it in constant time and refuses timestamps more
than 5 minutes off, so a captured request cannot be replayed later. Unsigned, forged or stale →
401 and nothing is stored; with no ``SLACK_SIGNING_SECRET`` configured the endpoint refuses
everything (403). The workspace's token is not this service's bearer token: Slack cannot send one.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, Response, status
from slack_sdk.signature import Clock, SignatureVerifier

from alert_webhooks.feedback import FeedbackError, Loader, parse_interaction
from alert_webhooks.routes.deps import ServiceDep, request_settings
from alert_webhooks.routes.errors import errors
from alert_webhooks.store import call
from exporters.catalogue import metrics

router = APIRouter(prefix="/api/v1/slack", tags=["feedback"])

# An interaction payload carries the clicked message's blocks (at most 50 × 3,000 characters).
MAX_BYTES = 256 * 1024


def _verifier(request: Request, secret: str) -> SignatureVerifier:
    # Tests put Slack's documented example's time here; the service uses the wall clock.
    clock: Clock = getattr(request.app.state, "slack_clock", None) or Clock()
    return SignatureVerifier(secret, clock=clock)


@router.post(
    "/interactions",
    status_code=status.HTTP_200_OK,
    responses=errors(
        400, 404, 413,
        notes={
            401: "Unsigned, forged or stale Slack request (older than 5 minutes)",
            403: "SLACK_SIGNING_SECRET is not configured",
        },
    ),
)
async def interactions(request: Request, service: ServiceDep) -> Response:
    """Store a feedback click with its incident; Slack only needs the 200 (within 3 s)."""
    secret = request_settings(request).slack_signing_secret
    if secret is None or not secret.get_secret_value().strip():
        raise HTTPException(status.HTTP_403_FORBIDDEN, "set SLACK_SIGNING_SECRET to accept Slack clicks")
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BYTES} bytes")
    try:
        valid = _verifier(request, secret.get_secret_value()).is_valid_request(body, dict(request.headers))
    except (ValueError, UnicodeDecodeError):  # a timestamp that is not a number, a body that is not text
        valid = False
    if not valid:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing, wrong or stale Slack signature")
    try:
        vote = parse_interaction(body)
    except FeedbackError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    store = service.store
    incident = await call(store, store.save_feedback, vote.incident_id, vote.voter, vote.choice, time.time())
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
    if (analysis := incident.analysis) is not None:
        metrics(service.metrics.registry)["llm_sre_analyst_feedback_total"].labels(
            analyst=analysis.grounding.backend, category=analysis.category, choice=vote.choice
        ).inc()
    if isinstance(loader := getattr(service.analyst, "preferences", None), Loader):
        loader.forget(incident.alertname)  # the next analysis of this alert reads the new vote
    # A new revision: the worker brings Grafana's annotation tags (and the Slack message) up to date.
    await call(store, store.enqueue, incident.id, time.time())
    service.worker.wake()
    return Response(status_code=status.HTTP_200_OK)
