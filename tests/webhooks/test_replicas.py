"""Three ``llm-sre serve`` replicas on one real Redis (AOF on) behind a round-robin proxy, fed by a
real Alertmanager: a storm, one replica SIGKILLed mid-storm and one Redis restart → every group
posted to Slack exactly once (bot mode) with one Grafana annotation; knowledge and feedback written
through one replica are read through the others (issue 19)."""

from __future__ import annotations

import collections
import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from llm_sre import processes, render
from llm_sre.processes import ManagedProcess, free_port, redis_server, wait_until
from tests.fakes import FakeGrafana
from tests.webhooks.conftest import AUTH, GRAFANA_TOKEN, TOKEN, incidents, serve
from tests.webhooks.slack_api import BOT_TOKEN, CHANNEL, FakeSlackApi
from tests.webhooks.test_feedback import DOC_SECRET, click, signed

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
REPLICAS = 3


class RoundRobin:
    """A plain load balancer: each request to the next replica, skipping one that refuses the
    connection (as a health-checked balancer would); Alertmanager sees the replica's answer."""

    def __init__(self, ports: list[int]) -> None:
        turn = itertools.count()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")
                }
                start = next(turn)
                for n in range(len(ports)):
                    url = f"http://127.0.0.1:{ports[(start + n) % len(ports)]}{self.path}"
                    try:
                        with urllib.request.urlopen(
                            urllib.request.Request(url, body, headers), timeout=10
                        ) as r:
                            status, answer = r.status, r.read()
                    except urllib.error.HTTPError as exc:
                        status, answer = exc.code, exc.read()
                    except OSError:  # refused: that replica is down, try the next
                        continue
                    break
                else:
                    status, answer = 502, b"no replica"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def storm(groups: int) -> list[dict[str, Any]]:
    """One critical alert per group (the shipped config groups by alertname and service)."""
    start, end = datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(hours=1)
    return [
        {
            "labels": {
                "alertname": "LLMErrorBurst",
                "severity": "critical",
                "service": f"svc-g{n}",
                "instance": "i0",
            },
            "annotations": {"summary": "LLM error ratio above 5%"},
            "startsAt": _stamp(start),
            "endsAt": _stamp(end),
        }
        for n in range(groups)
    ]


def request(port: int, path: str, body: Any = None, method: str | None = None, **headers: str) -> Any:
    data = (
        body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
    )
    head = {**AUTH, "Content-Type": "application/json", **headers}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, head, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    redis_port = free_port()
    redis_proc = redis_server(tmp_path / "redis", redis_port, tmp_path).start()
    wait_until(redis.Redis(port=redis_port).ping, 15, what="redis-server")
    with FakeSlackApi(delay=0.01) as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        env = {
            "LLM_SRE_STORE": "redis",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LLM_SRE_LEASE_SECONDS": "3",
            "LLM_SRE_WORKER_CONCURRENCY": "2",
            "LLM_SRE_RETRY_BASE_SECONDS": "0.2",
            "LLM_SRE_RETRY_MAX_SECONDS": "1",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_CHANNEL": CHANNEL,
            "SLACK_API_URL": f"{slack.url}/api/",
            "SLACK_SIGNING_SECRET": DOC_SECRET,
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": GRAFANA_TOKEN,
        }
        ports = [free_port() for _ in range(REPLICAS)]
        with ThreadPoolExecutor(REPLICAS) as pool:  # started side by side: each waits for its /readyz
            replicas = list(
                pool.map(
                    lambda p: serve(tmp_path, p, {**env, "LLM_SRE_DATA_DIR": str(tmp_path / f"data-{p}")}),
                    ports,
                )
            )
        proxy = RoundRobin(ports)
        (tmp_path / "token").write_text(TOKEN)
        config = render.alertmanager_config(
            yaml.safe_load((REPO / "provisioning/alertmanager/alertmanager.yml").read_text()),
            webhook_url=f"{proxy.url}/alertmanager",
            token_file=tmp_path / "token",
            group_wait="1s",
            group_interval="1s",
        )
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
        am_port = free_port()
        am = processes.alertmanager(tmp_path / "alertmanager.yml", tmp_path / "am", am_port, tmp_path).start()
        state = {"redis": redis_proc}
        try:
            yield {
                "ports": ports,
                "replicas": replicas,
                "slack": slack,
                "grafana": grafana,
                "am": am_port,
                "redis_port": redis_port,
                "tmp": tmp_path,
                "state": state,
            }
        finally:
            am.stop()
            proxy.close()
            for proc in replicas:
                proc.stop()
            state["redis"].stop()


def _group(message: dict[str, Any]) -> str:
    return message["text"].split("svc-")[1].split(":")[0].split(" ")[0]


@pytest.mark.parametrize("groups", [24, pytest.param(100, marks=pytest.mark.slow)])
def test_three_replicas_lose_and_repeat_nothing_through_a_kill_and_a_redis_restart(
    cluster: dict[str, Any], groups: int
) -> None:
    ports, slack, grafana = cluster["ports"], cluster["slack"], cluster["grafana"]
    victim: ManagedProcess = cluster["replicas"][1]
    request(cluster["am"], "/api/v2/alerts", storm(groups))

    wait_until(lambda: len(slack.top_level()) >= groups // 4, 30, 0.02, what="the storm's first posts")
    victim.kill()  # SIGKILL mid-storm: its claimed jobs come back to the others after the lease
    assert len(slack.top_level()) < groups, "the storm was over before the kill: nothing was tested"
    state, tmp = cluster["state"], cluster["tmp"]
    state["redis"].stop()  # and Redis restarts (AOF): acks and jobs must survive it
    state["redis"] = redis_server(tmp / "redis", cluster["redis_port"], tmp).start()
    wait_until(redis.Redis(port=cluster["redis_port"]).ping, 15, what="redis back")

    alive = [p for p, proc in zip(ports, cluster["replicas"], strict=True) if proc.alive()]
    wait_until(
        lambda: sum(i["delivered"] for i in incidents(alive[0])) == groups,
        60,
        0.2,
        what="every group delivered",
    )
    per_group = collections.Counter(_group(m) for m in slack.top_level())
    assert per_group == {f"g{n}": 1 for n in range(groups)}  # none lost, none repeated
    tags = collections.Counter(t for a in grafana.annotations.values() for t in a["tags"] if "incident-" in t)
    assert len(tags) == groups and set(tags.values()) == {1}
    assert len(incidents(alive[1])) == groups  # one incident per group, the same on every replica

    # Knowledge written through one replica is read and found through the other.
    doc = {
        "id": "gpu-oom",
        "category": "memory",
        "title": "GPU out of memory",
        "symptoms": ["CUDA out of memory"],
        "solutions": ["lower max_num_seqs"],
    }
    request(alive[0], "/api/v1/knowledge", doc)
    assert request(alive[1], "/api/v1/knowledge/gpu-oom")["title"] == "GPU out of memory"
    hits = request(alive[1], "/api/v1/search", {"query": "CUDA out of memory"})
    assert hits[0]["document"]["id"] == "gpu-oom"

    # Feedback clicked through one replica reaches the incident every replica delivers.
    target = incidents(alive[1])[0]
    body = click(target["id"], "wrong_cause")
    request(alive[1], "/api/v1/slack/interactions", body, **signed(body))
    tag = f"llm-sre-incident-{target['id']}"
    wait_until(
        lambda: any(
            tag in a["tags"] and "feedback:wrong_cause" in a["tags"] for a in grafana.annotations.values()
        ),
        20,
        what="the vote on the annotation",
    )
    shown = [request(p, f"/api/v1/incidents/{target['id']}")["revision"] for p in alive]
    assert shown[0] == shown[1] > target["revision"]
