"""A local model server speaking the real streaming wire formats: Ollama ``/api/chat`` (NDJSON) and
OpenAI-compatible ``/v1/chat/completions`` (server-sent events).

Tests script the answer (fixed content, or a function of the request), fail requests with an HTTP
status, pace the tokens (``token_gap``) like a model generating on CPU, or hang. A client that
closes the stream mid-answer is noticed the way a real server notices it — the next write fails —
and recorded in ``disconnected``, so a test can prove the deadline frees the model.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.exporters.local_server import LocalServer
from tests.fakes import Failure, Recorded

CREATED = "2026-11-26T23:10:04.512345Z"
# Field set and units as Ollama 0.5+ ends a chat stream with (durations in ns).
OLLAMA_DONE = {"done_reason": "stop", "total_duration": 2_113_004_167, "load_duration": 21_350_417,
               "prompt_eval_count": 1187, "prompt_eval_duration": 1_400_000_000, "eval_count": 221,
               "eval_duration": 690_000_000}  # fmt: skip


class FakeModelServer(LocalServer):
    def __init__(self, content: str = "{}", token_gap: float = 0.0, piece: int = 8) -> None:
        self.content, self.token_gap, self.piece = content, token_gap, piece
        self.answer: Callable[[dict], str] | None = None  # when set, the content depends on the request
        self.failures: deque[Failure] = deque()  # served, one per request, before normal handling
        self.requests: list[Recorded] = []
        self.hang = False
        self.released = threading.Event()
        self.disconnected = threading.Event()  # a client closed its stream before the end
        self.pieces_sent = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                # The health probes clients send before a run (llm-sre eval): Ollama's version, the
                # OpenAI-compatible model list.
                found = {"/api/version": {"version": "0.5.7"}, "/v1/models": {"object": "list", "data": []}}
                data = json.dumps(found.get(self.path, {"error": "not found"})).encode()
                self.send_response(200 if self.path in found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                if outer.failures:
                    failure = outer.failures.popleft()
                    return self.send_error(failure.status, explain=failure.body)
                if outer.hang:
                    outer.released.wait(30)  # a model stuck loading: the client's deadline fires first
                if outer.answer is not None:
                    outer.content = outer.answer(body)
                if self.path == "/api/chat":
                    return self._stream("application/x-ndjson", outer.ollama_events(body))
                if self.path == "/v1/chat/completions":
                    return self._stream("text/event-stream", outer.openai_events(body))
                return self.send_error(404)

            def _stream(self, ctype: str, events: list[bytes]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for event in events:
                        self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                        self.wfile.flush()
                        outer.pieces_sent += 1
                        time.sleep(outer.token_gap)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    outer.disconnected.set()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        super().__exit__(*exc)

    def _pieces(self) -> list[str]:
        return [self.content[i : i + self.piece] for i in range(0, len(self.content), self.piece)]

    def ollama_events(self, body: dict[str, Any]) -> list[bytes]:
        def chunk(text: str, done: bool) -> bytes:
            extra = OLLAMA_DONE if done else {}
            message = {"role": "assistant", "content": text}
            event = {"model": body["model"], "created_at": CREATED, "message": message, "done": done, **extra}
            return json.dumps(event).encode() + b"\n"

        return [chunk(p, False) for p in self._pieces()] + [chunk("", True)]

    def openai_events(self, body: dict[str, Any]) -> list[bytes]:
        def event(delta: dict[str, str], finish: str | None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            data = {"id": "chatcmpl-7f3a", "object": "chat.completion.chunk", "created": 1764198604,
                    "model": body["model"], "choices": [choice]}
            return f"data: {json.dumps(data)}\n\n".encode()

        first = [event({"role": "assistant", "content": ""}, None)]
        return first + [event({"content": p}, None) for p in self._pieces()] + [
            event({}, "stop"),
            b"data: [DONE]\n\n",
        ]
