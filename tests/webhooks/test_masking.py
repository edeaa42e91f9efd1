"""Secrets in a notification never leave the process unmasked (issue 4): not into the store (SQLite
file, Redis keys and AOF), the incidents API, /metrics, Slack, Grafana, the outbox, nor our logs —
and masking at intake keeps duplicates recognisable."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from alert_webhooks.incidents import dedup_key
from alert_webhooks.masking import masked
from alert_webhooks.schemas import Notification
from llm_sre.processes import free_port, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import (
    AUTH,
    GRAFANA_TOKEN,
    TOKEN,
    delivered_count,
    notification,
    post,
    resolved,
    serve,
    sink_env,
)

LABEL_SECRET = "Zq8vLmN4pR7sT1uWx9"  # secret by its key: a label named api_key
OPENAI_KEY = "sk-proj-T3stOnlyN0tRealAbCdEfGhIj"  # secret by its shape, in the summary
PASSWORD = "hunter2-Kx81Qz"  # key=value in a description
URL_PASSWORD = "Pw0rdInUrl77"  # userinfo in Alertmanager's external URL
WRONG_TOKEN = "ghp_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2"  # a real token, sent to the wrong place
# Issue 11: gaps found by hand. A '#' in a URL password, numbers right after another digit group,
# a URL-encoded key=value. Each passed every path (outbox, SQLite, Redis AOF, API, LLM prompt).
HASH_PASSWORD = "Zq8#rT2pLw9xVm4k"
CARD, RRN, PHONE = "4111111111111111", "900101-1234568", "010-1234-5678"
ENCODED_TOKEN = "ghp_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcB"
GAPS = {
    "redis": f"redis://:{HASH_PASSWORD}@redis-0:6379/0",
    "retries": f"retry 3 {CARD}",
    "ids": f"ids 12 {RRN}",
    "oncall": f"call 1 {PHONE}",
    "callback": f"https://hooks.example/cb?token%3D{ENCODED_TOKEN}",
}
PLACEHOLDER = "Authorization: Bearer <redacted>"  # a placeholder stays as written
SECRETS = [LABEL_SECRET, OPENAI_KEY, PASSWORD, URL_PASSWORD, HASH_PASSWORD, CARD, RRN, PHONE, ENCODED_TOKEN]


def secret_notification() -> dict[str, Any]:
    body = notification(
        summary=f"LLM calls fail with key {OPENAI_KEY}",
        description=f"the gateway logged password={PASSWORD} on retry",
        runbook_note=PLACEHOLDER,
        **GAPS,
    )
    body["groupKey"] = f'{{}}:{{alertname="LLMErrorBurst", api_key="{LABEL_SECRET}"}}'
    for labels in (body["groupLabels"], body["commonLabels"], body["alerts"][0]["labels"]):
        labels["api_key"] = LABEL_SECRET
    body["externalURL"] = f"http://alertmanager:{URL_PASSWORD}@127.0.0.1:9093"
    return body


def test_masking_keeps_clean_notifications_byte_identical_and_is_deterministic() -> None:
    clean = Notification.model_validate(notification(alerts=3))
    assert masked(clean).model_dump_json() == clean.model_dump_json()
    secret = Notification.model_validate(secret_notification())
    once = masked(secret)
    assert once.model_dump_json() == masked(secret).model_dump_json()
    assert dedup_key(once) == dedup_key(masked(secret))
    assert [a.fingerprint for a in once.alerts] == [a.fingerprint for a in secret.alerts]
    assert (
        once.commonLabels["severity"] == "critical" and once.commonLabels["api_key"] == "[REDACTED:api_key]"
    )
    assert not any(s in once.model_dump_json() for s in SECRETS)
    # Two groups differing only in a secret value stay two groups.
    other = secret_notification()
    other["groupKey"] = other["groupKey"].replace(LABEL_SECRET, "another-secret-value")
    assert masked(Notification.model_validate(other)).groupKey != once.groupKey


def _sqlite_contents(data_dir: Path) -> str:
    """Every row (the SQL dump) and the raw bytes of the database and its WAL (freed pages too)."""
    db = sqlite3.connect(data_dir / "webhook.db")
    rows = "\n".join(db.iterdump())
    db.close()
    files = sorted(data_dir.glob("webhook.db*"))
    return rows + "\n".join(f.read_bytes().decode("latin-1") for f in files)


def _redis_contents(url: str) -> str:
    """Every key and value, and every file of Redis's data directory (the AOF keeps overwritten
    values too)."""
    r = redis.Redis.from_url(url, decode_responses=True)
    parts: list[str] = []
    for key in r.scan_iter():
        kind = r.type(key)
        value = {
            "string": r.get,
            "hash": r.hgetall,
            "set": r.smembers,
            "zset": lambda k: r.zrange(k, 0, -1),
            "stream": r.xrange,
        }[kind](key)
        parts.append(f"{key} {value}")
    data_dir = Path(r.config_get("dir")["dir"])
    parts += [f.read_bytes().decode("latin-1") for f in data_dir.rglob("*") if f.is_file()]
    r.close()
    return "\n".join(parts)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("redis", marks=pytest.mark.e2e)])
def test_no_secret_reaches_the_store_the_api_or_any_sink_and_duplicates_still_dedupe(
    backend: str,
    make_client: Any,
    slack: FakeSlackWebhook,
    grafana: FakeGrafana,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    if backend == "sqlite":  # real (fake) Slack and Grafana
        client: TestClient = make_client(
            slack_webhook_url=f"{slack.url}/services/T/B/x",
            grafana_url=grafana.url,
            grafana_token=GRAFANA_TOKEN,
        )
    else:  # Redis, with the outbox standing in for both sinks
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushall()
        client = make_client(store_backend="redis", redis_url=url)
    body = secret_notification()
    first = client.post("/alertmanager", json=body, headers=AUTH).json()
    assert first["status"] == "accepted"
    assert client.post("/alertmanager", json=body, headers=AUTH).json() == {**first, "status": "duplicate"}

    def delivered(status: str) -> bool:
        (incident,) = client.get("/api/v1/incidents").json()["items"]
        return incident["status"] == status and incident["delivered"]

    # The firing copy goes out before the resolve arrives (else the worker rightly coalesces both
    # into one "resolved" post, and the sinks would see one message, not two).
    wait_until(lambda: delivered("firing"), 15, what="firing and delivered")
    client.post("/alertmanager", json=resolved(body), headers=AUTH)
    assert client.post("/alertmanager", json=resolved(body), headers=AUTH).json()["status"] == "duplicate"
    wait_until(lambda: delivered("resolved"), 15, what="resolved and delivered")
    api = client.get("/api/v1/incidents").text + client.get(f"/api/v1/incidents/{first['incident_id']}").text
    stored = _sqlite_contents(tmp_path) if backend == "sqlite" else _redis_contents(url)
    if backend == "sqlite":
        sent = json.dumps([r.body for r in slack.requests + grafana.requests])
        assert len(slack.messages) == 2 and len(grafana.annotations) == 1
    else:
        sent = (tmp_path / "outbox.jsonl").read_text()
    # The masked copies did arrive everywhere we look, so an absent secret means masked, not missing.
    for where in (api, stored, sent):
        assert "[REDACTED:openai_key]" in where
    assert "[REDACTED:api_key]" in api and "[REDACTED:api_key]" in stored
    assert PLACEHOLDER in stored
    everything = "\n".join((api, stored, sent, client.get("/metrics").text))
    assert [s for s in SECRETS if s in everything] == []


@pytest.mark.e2e
def test_the_services_own_logs_never_show_payload_secrets_or_tokens(tmp_path: Path) -> None:
    """A real ``llm-sre serve`` at debug level (access lines, slack-sdk and HTTP client debug logs
    on) receives secret-bearing payloads, a wrong token and a malformed body with a secret in it."""
    with FakeSlackWebhook() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        port = free_port()
        service = serve(tmp_path, port, sink_env(slack, grafana), log_level="debug")
        try:
            url = f"http://127.0.0.1:{port}/alertmanager"
            assert post(port, secret_notification()) == 200
            # A secret in the query string lands in the access line unless the log filter masks it.
            leaky = urllib.request.Request(
                f"{url}?api_key={LABEL_SECRET}",
                json.dumps(notification(group="g2")).encode(),
                {**AUTH, "Content-Type": "application/json"},
            )
            assert urllib.request.urlopen(leaky, timeout=10).status == 200
            for headers, data, code in (
                ({"Authorization": f"Bearer {WRONG_TOKEN}"}, json.dumps(secret_notification()), 401),
                (AUTH, '{"version": "4", "groupKey": "' + OPENAI_KEY + '", ', 422),
            ):
                req = urllib.request.Request(
                    url, data.encode(), {**headers, "Content-Type": "application/json"}
                )
                with pytest.raises(urllib.error.HTTPError) as answer:
                    urllib.request.urlopen(req, timeout=10)
                assert answer.value.code == code
                assert not any(s in answer.value.read().decode() for s in (*SECRETS, WRONG_TOKEN))
            wait_until(lambda: delivered_count(port) == 2, 20, what="both groups delivered")
        finally:
            service.stop()
    log = service.log_path.read_text()
    assert "/alertmanager?api_key=[REDACTED:api_key]" in log  # the access line was written, masked
    assert [s for s in (*SECRETS, WRONG_TOKEN, TOKEN, GRAFANA_TOKEN) if s in log] == []


def test_the_analyze_api_masks_what_it_stores_serves_and_relates(
    client: TestClient, tmp_path: Path
) -> None:
    logs = ["ERR max number of clients reached"]
    leaky = {
        "alertname": f"RedisClients {GAPS['retries']}",
        "error_logs": [*logs, f"connect {GAPS['redis']}"],
        "labels": {"instance": "redis-0", "dsn": GAPS["redis"], "note": GAPS["ids"]},
        "description": f"password={PASSWORD} {GAPS['oncall']}",
        "timestamp": "2026-11-25T08:00:00Z",
    }
    first = client.post("/api/v1/analyze", json=leaky)
    assert first.status_code == 200
    second = client.post("/api/v1/analyze", json={"error_logs": logs})
    served = client.get(f"/api/v1/analyze/{first.json()['incident_id']}")
    assert served.status_code == 200
    unauthorized = client.get(f"/api/v1/analyze/{first.json()['incident_id']}", headers={"Authorization": ""})
    assert unauthorized.status_code == 401
    related = second.json()["related_cases"]
    assert related[0].startswith(f"incident {first.json()['incident_id']} (")  # the first is quoted
    archive = sqlite3.connect(tmp_path / "knowledge.db")
    stored = "\n".join(str(row) for row in archive.execute("SELECT * FROM analyses"))
    archive.close()
    everything = "\n".join((first.text, second.text, served.text, stored))
    assert [s for s in SECRETS if s in everything] == []
