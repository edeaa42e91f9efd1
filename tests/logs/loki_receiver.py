"""A local stand-in for Loki's push endpoint, speaking its documented wire format exactly.

``POST /loki/api/v1/push`` with a JSON body (optionally ``Content-Encoding: gzip``)::

    {"streams": [{"stream": {"label": "value"}, "values": [["<ns>", "<line>", {<metadata>}]]}]}

answers 204 with no body on success and 400 with a text reason on a malformed push, like Loki.
Tests script it: queued responses (``429`` with ``Retry-After``, ``500``), a gate that holds
requests (a slow or hung Loki), and ``stop``/``start`` on the same port (Loki down, then back).
"""

from __future__ import annotations

import collections
import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PUSH_PATH = "/loki/api/v1/push"


class PushRejected(ValueError):
    pass


def validate_push(payload: Any) -> list[tuple[dict[str, str], str, str, dict[str, str]]]:
    """Check a push body the way Loki's JSON decoder does; return (labels, ns, line, metadata) rows."""
    if not isinstance(payload, dict) or not isinstance(payload.get("streams"), list):
        raise PushRejected("body must be an object with a 'streams' array")
    rows = []
    for stream in payload["streams"]:
        labels = stream.get("stream") if isinstance(stream, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise PushRejected("stream labels must be an object of strings")
        if not labels or len(labels) > 15:
            raise PushRejected("a stream needs 1..15 labels")
        for value in stream.get("values", []):
            if not isinstance(value, list) or len(value) not in (2, 3):
                raise PushRejected("each value is [ts, line] or [ts, line, metadata]")
            ns, line = value[0], value[1]
            if not (isinstance(ns, str) and ns.isdigit()) or not isinstance(line, str):
                raise PushRejected("timestamp must be a string of nanoseconds and line a string")
            metadata = value[2] if len(value) == 3 else {}
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise PushRejected("structured metadata must be an object of strings")
            rows.append((labels, ns, line, metadata))
    return rows


@dataclass
class Request:
    at: float
    headers: dict[str, str]
    status: int


@dataclass
class LokiReceiver:
    """Run with ``start()``; ``entries`` holds every accepted (labels, ns, line, metadata) row."""

    port: int
    entries: list[tuple[dict[str, str], str, str, dict[str, str]]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    # (status, headers) to answer before falling back to 204; rejected pushes are not stored.
    script: collections.deque[tuple[int, dict[str, str]]] = field(default_factory=collections.deque)
    gate: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.gate.set()
        self._lock = threading.Lock()

    def start(self) -> LokiReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        with self._lock:
            return [line for _, _, line, _ in self.entries]

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length", 0)))
        self.gate.wait(30)
        status, headers, reason = self._answer(http, body)
        with self._lock:
            self.requests.append(Request(time.monotonic(), dict(http.headers.items()), status))
        try:
            http.send_response(status)
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(reason)))
            http.end_headers()
            http.wfile.write(reason)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out first, as a real client of a hung Loki does

    def _answer(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if http.path != PUSH_PATH:
            return 404, {}, b"404 page not found\n"
        with self._lock:
            scripted = self.script.popleft() if self.script else None
        if scripted is not None:
            return scripted[0], scripted[1], b"scripted failure\n"
        if http.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return 415, {}, b"unsupported Content-Type\n"
        try:
            if http.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            rows = validate_push(json.loads(body))
        except (OSError, ValueError) as exc:
            return 400, {}, f"loghttp: {exc}\n".encode()
        with self._lock:
            self.entries.extend(rows)
        return 204, {}, b""
