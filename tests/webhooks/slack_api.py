"""A local Slack Web API for the bot-token mode, speaking Slack's wire format on a real socket.

``chat.postMessage`` (JSON body; ``ok``/``channel``/``ts``; message ``metadata`` kept),
``chat.update``, ``conversations.history`` (``oldest``, ``include_all_metadata``) and
``conversations.replies`` (with ``ts``): what the service reads to find a post whose answer a
crash lost.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes import FakeService

BOT_TOKEN = "xoxb-test-token-000000"
CHANNEL = "C0123"


class FakeSlackApi(FakeService):
    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay  # a real round trip, so a kill can land while a post is in flight
        self.messages: list[dict[str, Any]] = []
        self.lose_answers = 0  # posts that are made but answered 503, as if the answer never came
        self._last_ts = 0.0

    def _ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        time.sleep(self.delay)
        if headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        url = urlsplit(path)
        if url.path.endswith("/chat.postMessage"):
            message = {**body, "ts": self._ts()}
            self.messages.append(message)
            if self.lose_answers:
                self.lose_answers -= 1
                return 503, {}, {"ok": False, "error": "service_unavailable"}
            return 200, {}, {"ok": True, "channel": CHANNEL, "ts": message["ts"]}
        if url.path.endswith("/chat.update"):
            return 200, {}, {"ok": True, "channel": body["channel"], "ts": body["ts"]}
        # slack-sdk sends the conversations.* reads as GET or as a form POST, depending on the method.
        query = dict(parse_qsl(url.query)) or (body if isinstance(body, dict) else {})
        if url.path.endswith("/conversations.replies"):
            thread = [m for m in self.messages if query.get("ts") in (m["ts"], m.get("thread_ts"))]
            return 200, {}, {"ok": True, "messages": thread, "has_more": False}
        if url.path.endswith("/conversations.history"):
            if query.get("channel") != CHANNEL:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            oldest = float(query.get("oldest", 0))
            found = [
                {"ts": m["ts"], "text": m["text"], **({"metadata": m["metadata"]} if "metadata" in m else {})}
                for m in self.messages
                if "thread_ts" not in m and float(m["ts"]) > oldest
            ]
            if query.get("include_all_metadata") not in ("1", "true", "True", True):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            return 200, {}, {"ok": True, "messages": found[::-1], "has_more": False}
        return 404, {}, {"ok": False, "error": "unknown_method"}

    def top_level(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if "thread_ts" not in m]

    def calls(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.requests if urlsplit(r.path).path.endswith(name)]
