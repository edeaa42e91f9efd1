"""On-call feedback: Slack's signed button clicks on ``POST /api/v1/slack/interactions``, stored with
the incident (SQLite and a real redis-server), shown as Grafana tags, counted, and used by the next
analysis of the same alert. Slack's documented signing example checks the verification itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from alert_webhooks.analysis.prompt import messages
from alert_webhooks.app import create_app
from alert_webhooks.delivery.grafana import GrafanaNotifier
from alert_webhooks.delivery.slack import message
from alert_webhooks.service import build_notifiers
from alert_webhooks.settings import Settings
from alert_webhooks.store import Store
from llm_sre.processes import wait_until
from tests.fakes import FakeGrafana
from tests.webhooks.conftest import AUTH, GRAFANA_TOKEN, assemble, notification
from tests.webhooks.test_store import store  # noqa: F401  (the same SQLite/Redis fixture)

# Slack's documented example ("Verifying requests from Slack", step-by-step walk-through).
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
URL = "/api/v1/slack/interactions"


class FixedClock:
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def click(incident_id: str, choice: str, user: str = "U2CERLKJA") -> str:
    """The form body Slack posts for a button click (block_actions), as documented."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1DC2JH3J", "domain": "testteamnow"},
        "user": {"id": user, "username": "roadrunner", "team_id": "T1DC2JH3J"},
        "actions": [
            {
                "type": "button",
                "block_id": "llm_sre_feedback",
                "action_id": f"llm_sre_feedback:{choice}",
                "value": incident_id,
                "action_ts": "1531420618.000100",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def signed(body: str, timestamp: float | None = None, secret: str = DOC_SECRET) -> dict[str, str]:
    ts = str(int(timestamp if timestamp is not None else time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or "",
    }


@pytest.fixture
def running(tmp_path: Path, store: Store) -> Iterator[tuple[TestClient, Any, FakeGrafana]]:  # noqa: F811
    """The app on ``store`` (SQLite, Redis) with Grafana as its sink and the documented signing secret."""
    with FakeGrafana(GRAFANA_TOKEN) as grafana:
        sinks = Settings(data_dir=tmp_path, grafana_url=grafana.url, grafana_token=GRAFANA_TOKEN)
        (notifier,) = [n for n in build_notifiers(sinks) if isinstance(n, GrafanaNotifier)]
        settings, service = assemble(tmp_path, [notifier], store=store)
        service.settings = settings.model_copy(update={"slack_signing_secret": SecretStr(DOC_SECRET)})
        with TestClient(create_app(service.settings, service)) as client:
            yield client, service, grafana


def _incident(client: TestClient, group: str = "g1") -> dict[str, Any]:
    client.post("/alertmanager", json=notification(group=group), headers=AUTH)
    wait_until(
        lambda: any(
            i["delivered"]
            for i in client.get("/api/v1/incidents", headers=AUTH).json()["items"]
            if i["group_key"].endswith(f'group="{group}"}}')
        ),
        10,
        what="incident delivered",
    )
    items = client.get("/api/v1/incidents", headers=AUTH).json()["items"]
    return next(i for i in items if i["group_key"].endswith(f'group="{group}"}}'))


def test_slacks_documented_example_verifies() -> None:
    verifier = SignatureVerifier(DOC_SECRET, clock=FixedClock(int(DOC_TIMESTAMP)))  # type: ignore[arg-type]
    assert verifier.is_valid(DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE)
    assert not verifier.is_valid(DOC_BODY.replace("foobar", "foobaz"), DOC_TIMESTAMP, DOC_SIGNATURE)
    late = SignatureVerifier(DOC_SECRET, clock=FixedClock(int(DOC_TIMESTAMP) + 301))  # type: ignore[arg-type]
    assert not late.is_valid(DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE)  # a replay after 5 minutes


def test_the_documented_request_passes_the_signature_check_and_is_refused_as_not_a_click(running) -> None:
    client, _, _ = running
    headers = {
        "X-Slack-Request-Timestamp": DOC_TIMESTAMP,
        "X-Slack-Signature": DOC_SIGNATURE,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    client.app.state.slack_clock = FixedClock(int(DOC_TIMESTAMP) + 60)  # type: ignore[attr-defined]
    assert client.post(URL, content=DOC_BODY, headers=headers).status_code == 400  # a slash command
    client.app.state.slack_clock = FixedClock(int(DOC_TIMESTAMP) + 301)  # type: ignore[attr-defined]
    assert client.post(URL, content=DOC_BODY, headers=headers).status_code == 401


def test_unsigned_forged_stale_and_oversized_requests_store_nothing(running) -> None:
    client, service, _ = running
    incident = _incident(client)
    body = click(incident["id"], "wrong_cause")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post(URL, content=body, headers=form).status_code == 401  # unsigned
    forged = signed(body, secret="not-the-secret-at-all")
    assert client.post(URL, content=body, headers=forged).status_code == 401
    stale = signed(body, time.time() - 6 * 60)
    assert client.post(URL, content=body, headers=stale).status_code == 401
    bad_ts = {**signed(body), "X-Slack-Request-Timestamp": "yesterday"}
    assert client.post(URL, content=body, headers=bad_ts).status_code == 401
    tampered = signed(body)
    assert client.post(URL, content=click(incident["id"], "helpful"), headers=tampered).status_code == 401
    big = "payload=" + "x" * (300 * 1024)
    assert client.post(URL, content=big, headers=signed(big)).status_code == 413
    junk = "payload=%7Bnot+json"
    assert client.post(URL, content=junk, headers=signed(junk)).status_code == 400
    ghost = click("no-such-incident", "helpful")
    assert client.post(URL, content=ghost, headers=signed(ghost)).status_code == 404
    stored = service.store.incident(incident["id"])
    assert stored is not None and stored.feedback == {}
    # No secret configured: the endpoint refuses everything, signed or not.
    service.settings = service.settings.model_copy(update={"slack_signing_secret": None})
    assert client.post(URL, content=body, headers=signed(body)).status_code == 403
    assert service.store.incident(incident["id"]).feedback == {}  # type: ignore[union-attr]


def test_a_signed_click_is_stored_tagged_counted_and_changes_the_next_prompt(running) -> None:
    client, service, grafana = running
    first = _incident(client, "g1")
    stored = service.store.incident(first["id"])
    assert stored is not None and stored.analysis is not None
    before = messages(stored.analysis)
    runbook = stored.analysis.references[0]
    assert runbook.startswith("runbook:")
    # The buttons are on the Slack message.
    actions = [b for b in message(stored)["blocks"] if b.get("block_id") == "llm_sre_feedback"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "llm_sre_feedback:helpful",
        "llm_sre_feedback:unhelpful",
        "llm_sre_feedback:wrong_cause",
    ]

    body = click(first["id"], "wrong_cause")
    assert client.post(URL, content=body, headers=signed(body)).status_code == 200
    voted = service.store.incident(first["id"])
    assert voted is not None and list(voted.feedback.values()) == ["wrong_cause"]
    assert voted.revision == stored.revision + 1
    # Grafana: the same choice as a tag, sent with all the others (PATCH replaces tags).
    (annotation,) = grafana.annotations.values()
    wait_until(lambda: "feedback:wrong_cause" in annotation["tags"], 10, what="feedback tag")
    assert {"llm-sre", "LLMErrorBurst", f"llm-sre-incident-{first['id']}"} <= set(annotation["tags"])
    registry = service.metrics.registry
    assert (
        registry.get_sample_value(
            "llm_sre_analyst_feedback_total",
            {"analyst": "deterministic", "category": stored.analysis.category, "choice": "wrong_cause"},
        )
        == 1.0
    )

    # The next incident of the same alert: the runbook marked wrong is not its evidence any more.
    second = service.store.incident(_incident(client, "g2")["id"])
    assert second is not None and second.analysis is not None
    assert runbook not in second.analysis.references
    after = messages(second.analysis)
    assert runbook not in after[1]["content"] and runbook in before[1]["content"]
