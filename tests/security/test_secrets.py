"""Secrets seen in logs: counted by service and kind through the log exporter, never the value."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from clustering.live import live_listeners
from exporters.log_exporter import PatternCounter
from exporters.redact import new_secret_kinds
from security.secrets import SecretsWatch, load_secrets

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def count(registry: CollectorRegistry, service: str, kind: str) -> float:
    return registry.get_sample_value("llm_sre_log_secrets_total", {"service": service, "kind": kind}) or 0.0


def test_the_log_exporter_counts_secrets_by_service_and_kind_and_keeps_first_seen(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="app", listeners=live_listeners(registry, tmp_path))
    counter.observe(json.dumps({"level": "info", "service": "auth-api", "message": f"s3 upload with {AWS}"}))
    counter.observe(f"deploy: token {GITHUB} and again {GITHUB}", "ci")
    counter.observe(json.dumps({"level": "info", "service": "auth-api", "message": "all clean"}))

    assert count(registry, "auth-api", "aws_access_key") == 1
    assert count(registry, "ci", "github_token") == 2
    exposed = generate_latest(registry).decode()
    assert AWS not in exposed and GITHUB not in exposed
    seen = {(s["service"], s["kind"]): s for s in load_secrets(tmp_path)["secrets"]}
    assert seen[("ci", "github_token")]["count"] == 2
    assert set(seen[("auth-api", "aws_access_key")]) == {"service", "kind", "count", "firstSeen", "lastSeen"}
    stored = (tmp_path / "secrets.json").read_text()
    assert AWS not in stored and GITHUB not in stored


def test_personal_data_and_markers_already_in_the_line_are_not_secrets_seen() -> None:
    # Auth logs name users by email on every line; a forged or quoted marker is not a new secret.
    assert new_secret_kinds("login ok for alice@corp.example", "login ok for [REDACTED:email]") == {}
    line = "password=[REDACTED:password] copied from the docs"
    assert new_secret_kinds(line, line) == {}
    assert new_secret_kinds("password=hunter2xyz", "password=[REDACTED:password]") == {"password": 1}


def test_first_seen_stays_and_the_file_is_rewritten_when_a_kind_is_new(tmp_path: Path) -> None:
    now = [1000.0]
    watch = SecretsWatch(CollectorRegistry(), data_dir=tmp_path, clock=lambda: now[0], save_every=60)
    watch.observe(f"key {AWS}", "auth-api")
    now[0] = 1010.0
    watch.observe(f"key {AWS}", "auth-api")  # same kind, within save_every: counted, file not rewritten
    [first] = load_secrets(tmp_path)["secrets"]
    assert first["count"] == 1 and first["firstSeen"] == "1970-01-01T00:16:40+00:00"
    now[0] = 1020.0
    watch.observe(f"token {GITHUB}", "auth-api")  # a new kind: written at once, with everything so far
    secrets = {s["kind"]: s for s in load_secrets(tmp_path)["secrets"]}
    assert secrets["aws_access_key"]["count"] == 2
    assert secrets["aws_access_key"]["firstSeen"] == "1970-01-01T00:16:40+00:00"
    assert secrets["aws_access_key"]["lastSeen"] == "1970-01-01T00:16:50+00:00"
    assert secrets["github_token"]["firstSeen"] == "1970-01-01T00:17:00+00:00"
