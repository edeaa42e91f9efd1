"""Local stand-ins for the external services we cannot run here (Slack, Grafana).

They speak the documented wire formats (REFERENCE §3, §5) on a real socket, so the service's
real client libraries (slack-sdk, grafana-client) talk to them unchanged. Each records what it
received for assertions and can be told to fail (status codes, Retry-After, downtime).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


class FakeService:
    """A threaded HTTP server; subclasses implement ``handle(method, path, body)``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.failures: deque[Failure] = deque()  # served, one per request, before normal handling
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type", "")
                body: Any = raw.decode()
                if "json" in ctype and raw:
                    body = json.loads(raw)
                elif "x-www-form-urlencoded" in ctype:
                    body = dict(parse_qsl(raw.decode()))
                outer.before(self.command, self.path)
                with outer.lock:
                    failure = outer.failures.popleft() if outer.failures else None
                    if failure is None:
                        outer.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
                        status, headers, payload = outer.handle(
                            self.command, self.path, dict(self.headers), body
                        )
                    else:
                        status, headers, payload = failure.status, failure.headers, failure.body
                data = (
                    payload
                    if isinstance(payload, bytes)
                    else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Type" not in headers:
                    self.send_header(
                        "Content-Type",
                        "application/json" if not isinstance(payload, str) else "text/plain; charset=utf-8",
                    )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def before(self, method: str, path: str) -> None:
        """Called as a request arrives, outside the lock: a subclass can hold one request here
        (a create still in flight) while others are served."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        raise NotImplementedError


class FakeSlackWebhook(FakeService):
    """An incoming webhook: POST {text, blocks} → 200 ``ok`` (text/plain), as Slack answers."""

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        if method != "POST" or not isinstance(body, dict) or not body.get("text"):
            return 400, {}, "invalid_payload"
        return 200, {}, "ok"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.requests if r.method == "POST"]


class FakeGrafana(FakeService):
    """``/api/annotations`` as documented: POST creates, PATCH updates (sent ``tags`` replace),
    GET lists; every call needs the service-account token as a bearer token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.annotations: dict[int, dict[str, Any]] = {}

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Unauthorized"}
        route = path.split("?", 1)[0]
        if method == "POST" and route == "/api/annotations":
            new_id = len(self.annotations) + 1
            self.annotations[new_id] = {"id": new_id, **body}
            return 200, {}, {"message": "Annotation added", "id": new_id}
        if match := re.fullmatch(r"/api/annotations/(\d+)", route):
            ann = self.annotations.get(int(match.group(1)))
            if ann is None:
                return 404, {}, {"message": "Annotation not found"}
            if method == "PATCH":
                ann.update({k: v for k, v in body.items() if v is not None})
                return 200, {}, {"message": "Annotation patched"}
            if method == "GET":
                return 200, {}, ann
        if method == "GET" and route == "/api/annotations":
            return 200, {}, list(self.annotations.values())
        if method == "GET" and route == "/api/health":
            return 200, {}, {"database": "ok", "version": "11.6.0"}
        return 404, {}, {"message": "Not found"}
