"""FastAPI dependencies shared by the routes: the running :class:`Service` and webhook auth."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from alert_webhooks.service import Service


def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]


def _presented_secret(header: str) -> str | None:
    """The secret in an ``Authorization`` header: a bearer token or a basic-auth password
    (Alertmanager's ``http_config`` supports both; the username is not checked)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def require_token(request: Request, service: ServiceDep) -> None:
    """401 unless the configured webhook token is presented; compared in constant time."""
    expected = service.settings.webhook_token
    if expected is None:
        return
    presented = _presented_secret(request.headers.get("authorization", ""))
    if presented is None or not hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        service.metrics.notifications.labels(outcome="rejected").inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong webhook token",
            headers={"WWW-Authenticate": 'Bearer realm="llm-sre"'},
        )
