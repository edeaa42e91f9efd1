"""A local Ollama API stand-in speaking the documented response shapes (no Ollama server here).

Serves /api/chat, /api/generate (NDJSON streaming or one JSON object), /api/embed, /api/ps,
/api/tags and /api/version. Streams send a role-only chunk first, then pause ``token_gap``
seconds before the first token, so a test can tell first byte from first token.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.exporters.local_server import LocalServer

TIMINGS = {"total_duration": 5_191_566_416, "load_duration": 2_154_458, "prompt_eval_count": 26,
           "prompt_eval_duration": 383_809_000, "eval_count": 298, "eval_duration": 4_799_921_000}
CREATED = "2025-05-10T08:06:48.639712648-07:00"


def loaded(name: str, vram: int, expires: str = "2030-01-01T00:05:00Z") -> dict[str, Any]:
    """One /api/ps entry, as Ollama returns it."""
    return {"name": name, "model": name, "size": vram + 1024, "digest": "2ae6f6dd7a3dd734" * 4,
            "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                        "parameter_size": "7.2B", "quantization_level": "Q4_0"},
            "expires_at": expires, "size_vram": vram}


def pulled(name: str) -> dict[str, Any]:
    """One /api/tags entry."""
    return {"name": name, "model": name, "modified_at": CREATED, "size": 4_683_075_271,
            "digest": "0a8c26691023" * 5, "details": {"format": "gguf", "family": "qwen2"}}


class FakeOllama(LocalServer):
    def __init__(self, token_gap: float = 0.0) -> None:
        self.token_gap = token_gap
        self.ps: list[dict[str, Any]] = []
        self.tags: list[dict[str, Any]] = []
        self.status = 200  # set to 500 to make every model call fail
        self.down = False  # /api/ps and /api/tags answer 503
        self.requests: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # streams end when the connection closes, as chunked would

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if outer.down:
                    return self._json(503, {"error": "server busy"})
                routes = {"/api/ps": {"models": outer.ps}, "/api/tags": {"models": outer.tags},
                          "/api/version": {"version": "0.6.8"}}
                if self.path in routes:
                    return self._json(200, routes[self.path])
                return self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.requests.append((self.path, body))
                model = body.get("model", "")
                if model.startswith("missing"):
                    return self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
                if outer.status != 200:
                    return self._json(outer.status, {"error": "llama runner process has terminated"})
                if self.path == "/api/embed":
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    return self._json(200, {"model": model, "embeddings": [[0.1, 0.2]] * len(texts),
                                            "total_duration": 14_143_917, "load_duration": 1_019_500,
                                            "prompt_eval_count": 8})
                chat = self.path == "/api/chat"

                def chunk(text: str, done: bool) -> dict[str, Any]:
                    message = {"role": "assistant", "content": text}
                    content = {"message": message} if chat else {"response": text}
                    extra = {"done_reason": "stop", **TIMINGS} if done else {}
                    return {"model": model, "created_at": CREATED, **content, "done": done, **extra}

                if not body.get("stream", True):
                    return self._json(200, chunk("Hello there", True))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                parts = [("", False), ("Hello", False), (" there", False), ("", True)]
                for i, (text, done) in enumerate(parts):
                    if i == 1:
                        self.wfile.flush()
                        time.sleep(outer.token_gap)  # the model "thinking" before its first token
                    self.wfile.write(json.dumps(chunk(text, done)).encode() + b"\n")
                    self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
