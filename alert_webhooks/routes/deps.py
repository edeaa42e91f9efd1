"""FastAPI dependencies shared by the routes: the running :class:`Service` and the one auth check.

    router = APIRouter(dependencies=[Depends(require_token)])

Every route but the probes and ``/metrics`` goes through :func:`require_token`. Fail closed: with
``LLM_SRE_WEBHOOK_TOKEN`` set, reads and writes need it; with none set, reads stay open and writes
are refused unless ``LLM_SRE_INSECURE=1`` (a knowledge document's "actions" reach Slack, so an open
write API lets anyone put commands in front of on-call).

The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def``
dependency on a worker thread, and those hops (two per ack) were much of what a burst of readers
added to the intake (ack p99 390 → 94 ms with 32 readers of 50-incident pages).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from alert_webhooks.service import Service
from alert_webhooks.settings import Settings, get_settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]


def request_settings(request: Request) -> Settings:
    """The running service's settings (``create_app(settings)``), else the environment's."""
    service = getattr(request.app.state, "service", None)
    return getattr(service, "settings", None) or get_settings()


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


def _reject(request: Request, code: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    service = getattr(request.app.state, "service", None)
    if service is not None and request.url.path == "/alertmanager":
        service.metrics.notifications.labels(outcome="rejected").inc()
    return HTTPException(code, detail, headers=headers)


def _check(request: Request, reading: bool) -> None:
    settings = request_settings(request)
    expected = settings.webhook_token
    if expected is None:
        if reading or settings.insecure:
            return
        raise _reject(
            request,
            status.HTTP_403_FORBIDDEN,
            "writes are closed: set LLM_SRE_WEBHOOK_TOKEN (or LLM_SRE_INSECURE=1 on a trusted network)",
        )
    presented = _presented_secret(request.headers.get("authorization", ""))
    if presented is None or not hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        raise _reject(
            request,
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong token",
            headers={"WWW-Authenticate": 'Bearer realm="llm-sre"'},
        )


async def require_token(request: Request) -> None:
    """401 unless the configured token is presented (constant time); 403 for a write (any method
    but GET/HEAD/OPTIONS) when no token is configured and ``LLM_SRE_INSECURE`` is off."""
    _check(request, request.method in READ_METHODS)


def check_read_token(request: Request) -> None:
    """The check for a request that only reads, for dependencies that add their own conditions."""
    _check(request, True)


async def require_read_token(request: Request) -> None:
    """The same check for a POST that only reads (a search with a body)."""
    check_read_token(request)


Authorized = [Depends(require_token)]
ReadOnly = [Depends(require_read_token)]
