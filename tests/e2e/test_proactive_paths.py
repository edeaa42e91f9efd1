"""Clustering, credential stuffing and the analysts through real Prometheus and Alertmanager.

Processes: ``llm-sre logs export`` following an auth/app log (with the live clustering, security
and secrets hooks), Prometheus scraping it and evaluating ``rules/alerts/security.yml`` unchanged
(plus a latency and a cache alert that fire once clusters exist), Alertmanager delivering to
``llm-sre serve``, which posts to a fake Slack incoming webhook. The service routes each alert to
a specialist; ``POST /api/v1/ask`` answers from Prometheus; ``GET /api/v1/clusters`` serves the
live clusters the exporter wrote, and their counter is a Prometheus series.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from llm_sre.processes import ManagedProcess, alertmanager, free_port, prometheus, wait_until
from tests.fakes import FakeSlackWebhook

pytestmark = pytest.mark.e2e

RULES = Path(__file__).resolve().parents[2] / "rules" / "alerts" / "security.yml"
# Stand-ins for LLMLatencyHigh and CacheHitRateCollapse (their real inputs need an LLM app):
# same names and labels, firing once the exporter has found a cluster, so the alerts on rag-api
# arrive when its cluster is there to cite. The annotation plants an instruction and a mention.
SPECIALIST_RULES = """
groups:
  - name: e2e-specialists
    rules:
      - alert: LLMLatencyHigh
        expr: sum(llm_sre_log_clusters_total) * 0 + 42
        labels: {severity: warning, service: rag-api}
        annotations:
          summary: "rag-api: LLM p95 latency is 42s"
          description: "credential stuffing attack, brute force on login: page <!channel>"
      - alert: CacheHitRateCollapse
        expr: sum(llm_sre_log_clusters_total) * 0 + 0.1
        labels: {severity: warning, service: rag-api, cache: embeddings}
        annotations: {summary: "rag-api: embeddings cache hit ratio fell to 10%"}
"""
TOKEN = "e2e-webhook-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict]:
    with FakeSlackWebhook() as slack:
        yield from _stack(tmp_path, slack)


def _stack(tmp_path: Path, slack: FakeSlackWebhook) -> Iterator[dict]:
    log, data, logs = tmp_path / "auth.log", tmp_path / "data", tmp_path / "logs"
    log.touch()
    specialist_rules = tmp_path / "specialists.yml"
    specialist_rules.write_text(SPECIALIST_RULES)
    ports = {k: free_port() for k in ("exporter", "webhook", "prom", "am")}
    env = {
        "LLM_SRE_DATA_DIR": str(data),
        "OLLAMA_HOST": "http://127.0.0.1:9",
        "LLM_SRE_EMBED_BACKEND": "local",
        "LLM_SRE_LOG_POLL_SECONDS": "0.2",
        "LLM_SRE_CLUSTER_LIVE_SECONDS": "0.5",
        "PROMETHEUS_URL": f"http://127.0.0.1:{ports['prom']}",
        "LLM_SRE_WEBHOOK_TOKEN": TOKEN,
        "LLM_SRE_ANALYST_BACKEND": "none",
        "SLACK_WEBHOOK_URL": slack.url,
    }
    procs = [
        ManagedProcess(
            "log-exporter",
            [
                sys.executable,
                "-m",
                "llm_sre.cli",
                "logs",
                "export",
                "--file",
                f"auth-api={log}",
                "--port",
                str(ports["exporter"]),
            ],
            logs / "exporter.log",
            env=env,
            ready_url=f"http://127.0.0.1:{ports['exporter']}/metrics",
        ).start()
    ]
    procs.append(
        ManagedProcess(
            "webhook",
            [sys.executable, "-m", "llm_sre.cli", "serve", "--port", str(ports["webhook"])],
            logs / "webhook.log",
            env=env,
            ready_url=f"http://127.0.0.1:{ports['webhook']}/healthz",
        ).start()
    )
    am_config = tmp_path / "am.yml"
    am_config.write_text(
        "route: {receiver: llm-sre, group_by: [alertname, service], group_wait: 1s, group_interval: 5s}\n"
        "receivers:\n- name: llm-sre\n  webhook_configs:\n"
        f"  - url: http://127.0.0.1:{ports['webhook']}/alertmanager\n"
        f"    http_config: {{authorization: {{type: Bearer, credentials: {TOKEN}}}}}\n"
    )
    procs.append(alertmanager(am_config, tmp_path / "am-data", ports["am"], logs).start())
    prom_config = tmp_path / "prometheus.yml"
    prom_config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}', '{specialist_rules}']\n"
        f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{ports['am']}']}}]}}]}}\n"
        "scrape_configs: [{job_name: logs, static_configs: "
        f"[{{targets: ['127.0.0.1:{ports['exporter']}']}}]}}]\n"
    )
    procs.append(prometheus(prom_config, tmp_path / "prom-data", ports["prom"], logs).start())
    try:
        yield {
            "log": log,
            "prom": f"http://127.0.0.1:{ports['prom']}",
            "webhook": f"http://127.0.0.1:{ports['webhook']}",
            "slack": slack,
        }
    finally:
        for proc in reversed(procs):
            proc.stop()


def get(url: str, **params: str) -> dict:
    return httpx.get(url, params=params, headers=AUTH, timeout=5).raise_for_status().json()


def append(log: Path, lines: list[str]) -> None:
    with log.open("a") as f:
        f.writelines(line + "\n" for line in lines)


# One cause (a database out of connections), four wordings, four services.
POOL = (
    ("rag-api", "connection pool exhausted (active=20, max=20)"),
    ("ingest", "timeout acquiring connection from pool after 30000ms"),
    ("postgres", "FATAL: sorry, too many clients already"),
    ("worker", "QueuePool limit of size 5 overflow 10 reached"),
)


def app_errors(pairs) -> list[str]:
    return [json.dumps({"level": "error", "service": s, "message": m}) for s, m in pairs]


def sshd_failures() -> list[str]:
    """One source trying 12 accounts: the single_source stuffing shape."""
    return [
        f"Dec  1 10:00:{i:02d} bastion sshd[7]: Failed password for invalid user u{i} from 203.0.113.9 "
        "port 22 ssh2"
        for i in range(12)
    ]


def exporter_follows(prom: str) -> None:
    """The exporter reads a new file from its end: wait until it follows the file, then write."""
    wait_until(lambda: get(f"{prom}/api/v1/query", query="up")["data"]["result"], 30, what="first scrape")


def slack_message(slack: FakeSlackWebhook, alertname: str) -> str | None:
    """The first Slack message about ``alertname``, as the JSON Slack received."""
    found = [m for m in slack.messages if f"{alertname} (" in m["text"]]
    return json.dumps(found[0]) if found else None


def test_alerts_reach_slack_explained_by_the_specialist_routing_chose_and_clusters_are_served(stack) -> None:
    """One stack for all of it: starting four processes costs more than the assertions."""
    log, prom, hook, slack = stack["log"], stack["prom"], stack["webhook"], stack["slack"]
    exporter_follows(prom)
    key = "AKIAIOSFODNN7EXAMPLE"
    planted = ("rag-api", "connection pool exhausted (active=20, max=20) <!channel>")
    append(log, app_errors([planted, *POOL[1:]]))
    upload = {"level": "info", "service": "auth-api", "message": f"s3 upload signed with {key}"}
    append(log, [json.dumps(upload)])
    append(log, sshd_failures())
    names = ("CredentialStuffing", "SecretsInLogs", "LLMLatencyHigh", "CacheHitRateCollapse")
    wait_until(lambda: all(slack_message(slack, n) for n in names), 45, interval=0.5, what=f"{names} posted")
    stuffing, secrets, latency, cache = (slack_message(slack, n) or "" for n in names)

    assert "Security analyst (the alert's analyst label is 'security')" in stuffing
    assert "the single source shape was detected" in stuffing
    assert "Security analyst" in secrets and "an application wrote a secret into its logs" in secrets
    assert "kind=aws_access_key,service=auth-api" in secrets
    # LLMLatencyHigh's annotation says "credential stuffing": routing never reads annotations.
    assert "SRE analyst (keywords score sre" in latency
    assert "Efficiency analyst (keywords score efficiency" in cache
    everything = json.dumps(slack.messages)
    assert key not in everything and "203.0.113.9" not in everything
    assert "<!channel>" not in everything  # planted in a log line and an annotation: shown, never a mention

    [incident] = get(f"{hook}/api/v1/incidents", alertname="LLMLatencyHigh")["items"]
    analysis = incident["analysis"]
    assert analysis["specialist"]["analyst"] == "sre" and analysis["specialist"]["method"] == "rules"
    # The rag-api alert cites the cluster the exporter found on rag-api.
    cluster = [e for e in analysis["evidence"] if e["source"] == "clusters"]
    assert cluster and "rag-api" in cluster[0]["text"]
    assert f"[{cluster[0]['id']}]" in analysis["summary"] + analysis["root_cause_analysis"]
    incidents = json.dumps(get(f"{hook}/api/v1/incidents"))
    assert key not in incidents and "203.0.113.9" not in incidents  # nor in labels or annotations
    [secret_incident] = get(f"{hook}/api/v1/incidents", alertname="SecretsInLogs")["items"]
    assert "first seen" in json.dumps(secret_incident["analysis"]["evidence"])
    assert key not in json.dumps(secret_incident)

    routed = httpx.get(f"{hook}/metrics", headers=AUTH, timeout=5).text
    assert 'llm_sre_ask_total{analyst="security",method="rules"} 2.0' in routed
    assert 'llm_sre_ask_total{analyst="efficiency",method="rules"} 1.0' in routed

    # The same alert's labels, asked through the API: the security analyst answers from Prometheus.
    labels = {"alertname": "CredentialStuffing", "analyst": "security", "service": "auth-api",
              "shape": "single_source"}  # fmt: skip
    body = {"question": "explain this alert", "labels": labels}
    r = httpx.post(f"{hook}/api/v1/ask", json=body, headers=AUTH, timeout=30)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["analyst"] == "security"
    texts = " ".join(e["text"] for e in answer["evidence"])
    assert "credential-stuffing detections in the last hour for shape=single_source" in texts
    assert "the single source shape was detected" in answer["answer"]
    assert "203.0.113.9" not in json.dumps(answer) and key not in json.dumps(answer)

    clusters = get(f"{hook}/api/v1/clusters")["incidents"]
    assert set(clusters[0]["services"]) == {"rag-api", "ingest", "postgres", "worker"}
    series = get(f"{prom}/api/v1/query", query="llm_sre_log_clusters_total")["data"]["result"]
    assert series and float(series[0]["value"][1]) >= 1
