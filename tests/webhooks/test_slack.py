"""Slack rendering (limits, escaping, masking) and the bot flow: post, edit, thread the resolution."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from slack_sdk import WebClient

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.app import create_app
from alert_webhooks.delivery.slack import SECTION_MAX, SlackBotNotifier, message
from alert_webhooks.incidents import Incident, open_incident
from alert_webhooks.schemas import Notification
from alert_webhooks.settings import Settings
from llm_sre.processes import wait_until
from tests.fakes import Failure, FakeService
from tests.webhooks.conftest import AUTH, assemble, notification, resolved


class FakeSlackApi(FakeService):
    """``chat.postMessage`` / ``chat.update`` as Slack's Web API answers them (JSON, ``ok`` + ``ts``)."""

    def __init__(self) -> None:
        super().__init__()
        self._ts = itertools.count(1)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        if headers.get("Authorization") != "Bearer xoxb-test-token-000000":
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        if path.endswith("/chat.postMessage"):
            return 200, {}, {"ok": True, "channel": "C0123", "ts": f"1700000000.{next(self._ts):06d}"}
        if path.endswith("/chat.update"):
            return 200, {}, {"ok": True, "channel": body["channel"], "ts": body["ts"]}
        return 404, {}, {"ok": False, "error": "unknown_method"}

    def calls(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.requests if r.path.endswith(name)]


def _incident(**annotations: str) -> Incident:
    n = Notification.model_validate(notification(**annotations))
    analysis = asyncio.run(build_analyst(Settings()).first("i1", n))
    return replace(open_incident("i1", n, 1.0), analysis=analysis)


def test_untrusted_text_cannot_mention_or_link_and_secrets_are_masked() -> None:
    incident = _incident(summary="<!channel> ping <@U123> see <http://evil|here> Bearer abcdefghijklmnop1234")
    body = message(incident)
    rendered = str(body)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered and "<http://evil" not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert "abcdefghijklmnop1234" not in rendered
    assert body["text"]  # the notification fallback is always there
    for block in body["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if obj and obj.get("type") == "mrkdwn":
                assert obj["verbatim"] is True


def test_blocks_stay_within_block_kit_limits() -> None:
    body = message(_incident(summary="x" * 10_000, description="y" * 10_000))
    assert len(body["blocks"]) <= 50
    assert len(body["text"]) <= 3000
    for block in body["blocks"]:
        if isinstance(block.get("text"), dict):
            assert len(block["text"]["text"]) <= SECTION_MAX
        assert len(block.get("fields", [])) <= 10
    assert body["blocks"][0]["type"] == "header" and len(body["blocks"][0]["text"]["text"]) <= 150
    buttons = [e["url"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and all(u.startswith("http") for u in buttons)


def bot(api: FakeSlackApi) -> SlackBotNotifier:
    client = WebClient(token="xoxb-test-token-000000", base_url=f"{api.url}/api/", retry_handlers=[])
    return SlackBotNotifier(client, "#ops")


def test_bot_posts_once_then_edits_and_threads_the_resolution(tmp_path: Path) -> None:
    with (
        FakeSlackApi() as api,
        TestClient(create_app(*assemble(tmp_path, [bot(api)]))) as client,
    ):
        api.failures.append(Failure(429, {"Retry-After": "0"}, '{"ok": false, "error": "ratelimited"}'))
        body = notification()
        client.post("/alertmanager", json=body, headers=AUTH)
        wait_until(lambda: client.get("/api/v1/incidents").json()["items"][0]["delivered"], 10)
        client.post("/alertmanager", json=resolved(body), headers=AUTH)
        wait_until(
            lambda: (
                client.get("/api/v1/incidents").json()["items"][0]["status"] == "resolved"
                and client.get("/api/v1/incidents").json()["items"][0]["delivered"]
            ),
            10,
        )
        posts, updates = api.calls("chat.postMessage"), api.calls("chat.update")
    assert len(posts) == 2  # the incident message, then one threaded resolution
    assert "thread_ts" not in posts[0] and posts[1]["thread_ts"] == "1700000000.000001"
    assert len(updates) == 1 and updates[0]["ts"] == "1700000000.000001"
    assert "RESOLVED" in str(updates[0]["blocks"])
    assert "link_names" not in posts[0]
