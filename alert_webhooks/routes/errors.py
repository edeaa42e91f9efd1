"""The error answers every route may give, published once, and a 405 that tells the truth.

``errors(404, 409)`` gives the ``responses=`` of a route, so the OpenAPI documents each status the
route can answer (schemathesis' status-code check holds it to that). The 405 handler exists because
FastAPI registers one route per method: Starlette answers a wrong method with the ``Allow`` of the
first route that matched the path only (``GET`` for ``/knowledge/{id}``, which also takes PUT and
DELETE); RFC 9110 §15.5.6 wants every method the path supports.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

ERROR_CONTENT: dict[str, Any] = {
    "application/json": {"schema": {"type": "object", "properties": {"detail": {}}}}
}

_WHY: dict[int, str] = {
    400: "Body that could not be read as JSON",
    401: "Missing or wrong token",
    403: "Writes are closed: no token configured and LLM_SRE_INSECURE off",
    404: "Not found",
    409: "Already exists",
    413: "Body larger than the configured limit",
    422: "Malformed request (the field is named)",
}


def errors(*codes: int, notes: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for these statuses (and those of ``notes``, which word a route's own cases)."""
    why = {code: _WHY[code] for code in codes} | (notes or {})
    return {code: {"description": text, "content": ERROR_CONTENT} for code, text in why.items()}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed(request: Request) -> list[str]:
    # Asked of the router itself (included routers nest their routes), one method at a time.
    def serves(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)

    return [method for method in _METHODS if serves(method)]


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code != status.HTTP_405_METHOD_NOT_ALLOWED:
        return await http_exception_handler(request, exc)
    allow = ", ".join(_allowed(request))
    return JSONResponse({"detail": exc.detail}, status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": allow})


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _method_not_allowed)
