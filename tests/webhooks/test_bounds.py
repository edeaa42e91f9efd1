"""Readers, memory, disk and configuration cannot hurt the intake (issue 11, items 4–7)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alert_webhooks import masking, sqlite_store
from alert_webhooks.schemas import Notification
from alert_webhooks.sqlite_store import SqliteStore, StoreUnavailable
from llm_sre.processes import free_port, wait_until
from tests.fakes import FakeGrafana, FakeSlackWebhook
from tests.webhooks.conftest import GRAFANA_TOKEN, notification, post, serve, sink_settings

NOW = 1_800_000_000.0


def test_intake_acks_while_every_reader_thread_is_busy(client: TestClient) -> None:
    """Reads have their own thread and connection: with the reader stuck (and more reads queued
    behind it), an ack still lands (before, reads ran on the event loop under the ack's lock)."""
    store = client.app.state.service.store
    release = threading.Event()
    stuck = [store.executor("incidents").submit(release.wait) for _ in range(2)]
    try:
        done = threading.Event()
        answer: list[int] = []

        def ack() -> None:
            answer.append(client.post("/alertmanager", json=notification(group="busy")).status_code)
            done.set()

        threading.Thread(target=ack, daemon=True).start()
        assert done.wait(10), "the ack waited for the readers"
        assert answer == [200]
    finally:
        release.set()
        for future in stuck:
            future.result()
    assert client.get("/api/v1/incidents").json()["total"] == 1


@pytest.mark.parametrize(
    "params", [{"limit": 501}, {"limit": 0}, {"offset": -1}, {"offset": 10**30}, {"limit": "x"}]
)
def test_list_paging_is_validated(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/api/v1/incidents", params=params).status_code == 422


def test_reads_need_the_token_when_one_is_set(client: TestClient) -> None:
    client.post("/alertmanager", json=notification())
    assert client.get("/api/v1/incidents", headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/v1/incidents/x", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/healthz").status_code == 200  # probes and /metrics stay open for scrapers
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 200


def test_without_a_token_the_intake_refuses_unless_insecure(make_client: Callable[..., TestClient]) -> None:
    closed = make_client(webhook_token=None)
    refused = closed.post("/alertmanager", json=notification())
    assert refused.status_code == 403 and "LLM_SRE_WEBHOOK_TOKEN" in refused.json()["detail"]
    assert closed.get("/api/v1/incidents").json()["total"] == 0  # nothing stored; reads stay open
    other_dir = closed.app.state.service.settings.data_dir / "open"
    opened = make_client(webhook_token=None, insecure=True, data_dir=other_dir)
    assert opened.post("/alertmanager", json=notification()).status_code == 200


def test_the_masking_cache_is_bounded_by_bytes(client: TestClient) -> None:
    big = "x" * (1 << 20)
    for n in range(18):  # 18 MB of distinct label values: more than the cache may hold
        body = notification(group=f"big{n}")
        body["alerts"][0]["labels"]["blob"] = f"{n}{big}"
        assert client.post("/alertmanager", json=body).status_code == 200
    for n in range(2000):  # and many small label sets, which the cache is for
        masking.masked(Notification.model_validate(notification(group=f"small{n}")))
    assert 0 < masking.cached_bytes() <= masking.CACHE_MAX_BYTES


def test_the_wal_is_truncated_past_its_limit_even_with_a_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT_BYTES", 256 * 1024)
    store = SqliteStore(tmp_path / "webhook.db")
    try:
        for n in range(400):
            store.ingest(Notification.model_validate(notification(group=f"w{n}", alerts=3)), NOW + n)
            if n % 50 == 0:
                store.incidents(sqlite_store.IncidentFilter(), 500, 0)  # a reader between writes
        assert store.wal_bytes() > 256 * 1024
        store.housekeeping()  # restarts the WAL: the next write starts at its beginning, cut to the limit
        store.ingest(Notification.model_validate(notification(group="after")), NOW + 400)
        assert store.wal_bytes() <= 256 * 1024
        assert store.incidents(sqlite_store.IncidentFilter(), 1, 0)[1] == 401
    finally:
        store.close()


def test_a_reader_in_the_wal_makes_housekeeping_try_later_not_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RESTART gives up at once when a reader holds a place in the WAL; only past the whole limit
    does a TRUNCATE (which holds the write lock) run."""
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT_BYTES", 32 * 1024 * 1024)
    store = SqliteStore(tmp_path / "webhook.db")
    reader = sqlite3.connect(tmp_path / "webhook.db", isolation_level=None)
    try:
        for n in range(150):
            store.ingest(Notification.model_validate(notification(group=f"r{n}", alerts=3)), NOW + n)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM incidents").fetchone()  # a snapshot inside the WAL
        for n in range(150, 300):
            store.ingest(Notification.model_validate(notification(group=f"r{n}", alerts=3)), NOW + n)
        size = store.wal_bytes()
        assert 8 * 1024 * 1024 < size < 32 * 1024 * 1024  # past the restart point, below the limit
        store.housekeeping()  # the RESTART is busy: nothing waits, nothing is cut
        store.ingest(Notification.model_validate(notification(group="next")), NOW + 300)
        assert store.wal_bytes() >= size
        reader.execute("COMMIT")  # the reader moves on: the next round restarts the WAL
        store.housekeeping()
        store.ingest(Notification.model_validate(notification(group="last")), NOW + 301)
        probe = sqlite3.connect(tmp_path / "webhook.db")
        frames = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        probe.close()
        assert frames < 50  # the WAL started over (thousands of frames before)
        assert store.incidents(sqlite_store.IncidentFilter(), 1, 0)[1] == 302
    finally:
        reader.close()
        store.close()


def test_a_damaged_store_is_not_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT_BYTES", 0)  # housekeeping empties the WAL into the file
    path = tmp_path / "webhook.db"
    store = SqliteStore(path)
    for n in range(300):
        store.ingest(Notification.model_validate(notification(group=f"d{n}")), NOW + n)
    store.housekeeping()
    assert store.ping()
    with path.open("r+b") as f:  # scribble over pages in the middle of the file
        f.seek(path.stat().st_size // 2)
        f.write(b"\xff" * 8192)
    store._checked = (float("-inf"), True)  # the next ping checks now, not in a minute
    assert not _safe_ping(store)
    store.close()
    with pytest.raises(StoreUnavailable, match=str(path)):
        SqliteStore(path)


def _safe_ping(store: SqliteStore) -> bool:
    try:
        return store.ping()
    except Exception:  # /readyz treats a raising ping as not ready
        return False


@pytest.mark.e2e
@pytest.mark.parametrize("damage", ["read-only", "corrupt"])
def test_serve_with_a_bad_data_dir_says_so_in_one_line(tmp_path: Path, damage: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if damage == "corrupt":
        (data / "webhook.db").write_bytes(b"this is not a database" * 100)
    else:
        data.chmod(0o500)
    env = {"LLM_SRE_DATA_DIR": str(data), "LLM_SRE_WEBHOOK_TOKEN": "t" * 20, "PATH": "/usr/bin:/bin"}
    if damage == "read-only" and _root_ignores_permissions(data):
        pytest.skip("running as root: a read-only directory is still writable")
    llm_sre = str(Path(sys.executable).with_name("llm-sre"))
    run = subprocess.run(
        [llm_sre, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    data.chmod(0o700)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("llm-sre serve:")]
    assert str(data / "webhook.db") in line


def _root_ignores_permissions(path: Path) -> bool:
    probe = path / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.mark.e2e
def test_serve_warns_at_start_without_a_token(tmp_path: Path) -> None:
    with FakeSlackWebhook() as slack:
        port = free_port()
        service = serve(tmp_path, port, {"LLM_SRE_WEBHOOK_TOKEN": "", "SLACK_WEBHOOK_URL": f"{slack.url}/x"})
        try:
            wait_until(lambda: "LLM_SRE_WEBHOOK_TOKEN is not set" in service.log_path.read_text(), 10)
            with pytest.raises(Exception, match="403"):
                post(port, notification())
        finally:
            service.stop()


class RacingGrafana(FakeGrafana):
    """A create that timed out earlier commits just as our retry creates again (Grafana's database
    was slow): the first POST lands two annotations with the incident's tag. Also answers DELETE."""

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        route = path.split("?", 1)[0]
        if method == "POST" and route == "/api/annotations" and not self.annotations:
            super().handle(method, path, headers, body)  # the slow create of the earlier attempt
        if method == "DELETE" and route.startswith("/api/annotations/"):
            self.annotations.pop(int(route.rsplit("/", 1)[1]), None)
            return 200, {}, {"message": "Annotation deleted"}
        return super().handle(method, path, headers, body)


def test_a_grafana_create_racing_a_slow_one_leaves_one_annotation(
    make_client: Callable[..., TestClient], slack: FakeSlackWebhook
) -> None:
    with RacingGrafana(GRAFANA_TOKEN) as grafana:
        client = make_client(**sink_settings(slack, grafana))
        client.post("/alertmanager", json=notification())
        wait_until(lambda: client.get("/api/v1/incidents").json()["items"][0]["delivered"], 15)
        assert list(grafana.annotations) == [1]  # the older one kept, ours deleted
        (ref,) = [
            d["ref"] for d in client.get("/api/v1/incidents").json()["items"][0]["deliveries"]
            if d["sink"] == "grafana"
        ]
        assert ref == "1"
        assert [r.method for r in grafana.requests if r.path.startswith("/api/annotations/")] == [
            "DELETE",
            "PATCH",
        ]
