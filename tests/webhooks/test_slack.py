"""Slack rendering (limits, escaping, masking) and the bot flow: post, edit, thread the resolution."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from slack_sdk import WebClient

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.app import create_app
from alert_webhooks.delivery.slack import SECTION_MAX, SlackBotNotifier, message
from alert_webhooks.incidents import Incident, open_incident
from alert_webhooks.schemas import Notification
from alert_webhooks.settings import Settings
from llm_sre.processes import wait_until
from tests.fakes import Failure
from tests.webhooks.conftest import AUTH, assemble, notification, resolved
from tests.webhooks.slack_api import BOT_TOKEN, CHANNEL, FakeSlackApi


def _incident(tmp_path: Path, **annotations: str) -> Incident:
    n = Notification.model_validate(notification(**annotations))
    analysis = asyncio.run(build_analyst(Settings(data_dir=tmp_path), use_llm=False).first("i1", n))
    return replace(open_incident("i1", n, 1.0), analysis=analysis)


def test_untrusted_text_cannot_mention_or_link_and_secrets_are_masked(tmp_path: Path) -> None:
    incident = _incident(
        tmp_path, summary="<!channel> ping <@U123> see <http://evil|here> Bearer abcdefghijklmnop1234"
    )
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


def test_blocks_stay_within_block_kit_limits(tmp_path: Path) -> None:
    body = message(_incident(tmp_path, summary="x" * 10_000, description="y" * 10_000))
    assert len(body["blocks"]) <= 50
    assert len(body["text"]) <= 3000
    for block in body["blocks"]:
        if isinstance(block.get("text"), dict):
            assert len(block["text"]["text"]) <= SECTION_MAX
        assert len(block.get("fields", [])) <= 10
    assert body["blocks"][0]["type"] == "header" and len(body["blocks"][0]["text"]["text"]) <= 150
    elements = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    buttons = [e["url"] for e in elements if "url" in e]  # link buttons; the rest are feedback clicks
    assert buttons and all(u.startswith("http") for u in buttons)
    assert all(len(e["value"]) <= 2000 and len(e["action_id"]) <= 255 for e in elements if "url" not in e)


def bot(api: FakeSlackApi) -> SlackBotNotifier:
    client = WebClient(token=BOT_TOKEN, base_url=f"{api.url}/api/", retry_handlers=[])
    return SlackBotNotifier(client, CHANNEL)


def _incident_status(client: TestClient) -> tuple[str, bool]:
    item = client.get("/api/v1/incidents").json()["items"][0]
    return item["status"], item["delivered"]


def _client(tmp_path: Path, api: FakeSlackApi) -> TestClient:
    return TestClient(create_app(*assemble(tmp_path, [bot(api)])), headers=AUTH)


def test_bot_posts_once_then_edits_and_threads_the_resolution(tmp_path: Path) -> None:
    with FakeSlackApi() as api, _client(tmp_path, api) as client:
        api.failures.append(Failure(429, {"Retry-After": "0"}, '{"ok": false, "error": "ratelimited"}'))
        body = notification()
        client.post("/alertmanager", json=body, headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("firing", True), 10)
        client.post("/alertmanager", json=resolved(body), headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("resolved", True), 10)
        posts, updates = api.calls("chat.postMessage"), api.calls("chat.update")
        (top,) = api.top_level()
    assert len(posts) == 2  # the incident message, then one threaded resolution
    assert "thread_ts" not in posts[0] and posts[1]["thread_ts"] == top["ts"]
    assert posts[0]["metadata"]["event_type"] == "llm_sre_incident"
    assert len(updates) == 1 and updates[0]["ts"] == top["ts"]
    assert "RESOLVED" in str(updates[0]["blocks"])
    assert "link_names" not in posts[0]


def test_a_post_whose_answer_was_lost_is_found_not_repeated(tmp_path: Path) -> None:
    with FakeSlackApi() as api, _client(tmp_path, api) as client:
        api.lose_answers = 1  # Slack posted it, but we never heard back (as with a crash mid-request)
        client.post("/alertmanager", json=notification(), headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("firing", True), 10)
        assert len(api.top_level()) == 1
        assert len(api.calls("conversations.history")) == 1
        ref = client.get("/api/v1/incidents").json()["items"][0]["deliveries"][0]["ref"]
        assert ref == f"{CHANNEL}:{api.top_level()[0]['ts']}"


def test_alerts_alertmanager_left_out_are_counted(tmp_path: Path) -> None:
    incident = _incident(tmp_path)
    envelope = incident.notification.model_copy(update={"truncatedAlerts": 3})
    body = message(replace(incident, notification=envelope))
    assert "1 (+3 truncated)" in str(body["blocks"])


def test_a_resolution_whose_answer_was_lost_is_not_threaded_twice(tmp_path: Path) -> None:
    with FakeSlackApi() as api, _client(tmp_path, api) as client:
        body = notification()
        client.post("/alertmanager", json=body, headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("firing", True), 10)
        api.lose_answers = 1
        client.post("/alertmanager", json=resolved(body), headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("resolved", True), 10)
        replies = [m for m in api.messages if "thread_ts" in m]
    assert len(replies) == 1 and replies[0]["metadata"]["event_type"] == "llm_sre_incident_resolved"


def test_blocks_slack_refuses_fall_back_to_text(tmp_path: Path) -> None:
    with FakeSlackApi() as api, _client(tmp_path, api) as client:
        api.failures.append(Failure(200, {}, '{"ok": false, "error": "invalid_blocks"}'))
        client.post("/alertmanager", json=notification(), headers=AUTH)
        wait_until(lambda: _incident_status(client) == ("firing", True), 10)
        (top,) = api.top_level()
    assert "blocks" not in top and "LLMErrorBurst" in top["text"]
