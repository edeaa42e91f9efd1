"""A local OpenAI-compatible API (as vLLM and llama.cpp server speak it): JSON and SSE streams."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.exporters.local_server import LocalServer

USAGE = {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}


class FakeOpenAI(LocalServer):
    def __init__(self, token_gap: float = 0.0) -> None:
        self.token_gap = token_gap
        self.status = 200
        self.models = ["qwen2.5-7b-instruct"]  # what GET /v1/models lists
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/v1/models":
                    return self._json(404, {"error": {"message": "Not found", "type": "not_found"}})
                return self._json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 1_767_225_600, "owned_by": "vllm"}
                    for m in outer.models]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if outer.status != 200:
                    return self._json(outer.status, {"error": {"message": "Rate limit reached", "type":
                                                               "rate_limit_error", "code": outer.status}})
                model = body["model"]
                if self.path == "/v1/embeddings":
                    return self._json(200, {"object": "list", "model": model, "data": [
                        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                        "usage": {"prompt_tokens": 5, "total_tokens": 5}})
                chat = self.path == "/v1/chat/completions"
                base = {"id": "cmpl-1", "created": 1_767_225_600, "model": model}
                if not body.get("stream"):
                    choice = ({"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "Hello there"}} if chat
                              else {"index": 0, "finish_reason": "stop", "text": "Hello there"})
                    kind = "chat.completion" if chat else "text_completion"
                    return self._json(200, {**base, "object": kind, "choices": [choice], "usage": USAGE})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                kind = "chat.completion.chunk" if chat else "text_completion"

                def delta(text: str | None, role: str | None = None) -> dict[str, Any]:
                    if chat:
                        return {"index": 0, "finish_reason": None, "delta": {"role": role, "content": text}}
                    return {"index": 0, "finish_reason": None, "text": text or ""}

                events = [{**base, "object": kind, "choices": [delta("", "assistant")]},
                          {**base, "object": kind, "choices": [delta("Hello")]},
                          {**base, "object": kind, "choices": [delta(" there")]}]
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**base, "object": kind, "choices": [], "usage": USAGE})
                for i, event in enumerate(events):
                    if i == 1:
                        time.sleep(outer.token_gap)  # the model "thinking" before its first token
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"{super().url}/v1"
