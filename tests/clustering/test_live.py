"""The log exporter's live hook: lines counted by PatternCounter are clustered and stuffing-checked."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest

from clustering.live import ClusterWatch
from clustering.settings import ClusteringSettings
from clustering.store import load_snapshot
from exporters.log_exporter import PatternCounter
from llm_sre.processes import wait_until
from security.detector import Detector
from security.watch import CredentialWatch


def test_clusters_are_written_and_counted_once(tmp_path) -> None:
    registry = CollectorRegistry()
    watch = ClusterWatch(registry, ClusteringSettings(embed_backend="local"), data_dir=tmp_path)
    counter = PatternCounter(registry, service="rag-api", listeners=[watch.observe])
    messages = [
        "connection pool exhausted",
        "FATAL: sorry, too many clients already",
        "timeout acquiring connection from pool after 30000ms",
        "a one-off warning about nothing",
        "QueuePool limit of size 5 overflow 10 reached",
    ]
    for msg in messages:
        counter.observe(json.dumps({"level": "error", "message": msg}))
    counter.observe(json.dumps({"level": "info", "message": "request served"}))
    assert load_snapshot(tmp_path) is None  # the line reader never clusters: the timer thread does
    watch.flush()
    snapshot = load_snapshot(tmp_path)
    assert snapshot is not None and len(snapshot["incidents"]) == 1
    assert snapshot["incidents"][0]["events"] == 4
    assert registry.get_sample_value("llm_sre_log_clusters_total", {"severity": "warning"}) == 1
    assert registry.get_sample_value("llm_sre_log_clustered_events_total", {"outcome": "clustered"}) == 4
    assert registry.get_sample_value("llm_sre_log_clustered_events_total", {"outcome": "noise"}) == 1
    assert watch.flush() is None  # nothing new: no run
    counter.observe(json.dumps({"level": "error", "message": "connection pool exhausted"}))
    watch.flush()
    # the same incident again is not a new cluster
    assert registry.get_sample_value("llm_sre_log_clusters_total", {"severity": "warning"}) == 1


def test_the_timer_thread_clusters_a_quiet_log(tmp_path) -> None:
    watch = ClusterWatch(
        CollectorRegistry(), ClusteringSettings(embed_backend="local", live_seconds=0.05), data_dir=tmp_path
    ).start()
    try:
        for msg in ("connection pool exhausted", "FATAL: sorry, too many clients already"):
            watch.observe(json.dumps({"level": "error", "message": msg}))
        wait_until(lambda: (load_snapshot(tmp_path) or {}).get("incidents"), 10, what="snapshot")
    finally:
        watch.stop()


def test_stuffing_in_the_stream_is_counted_without_ips_or_accounts_in_labels(tmp_path) -> None:
    registry = CollectorRegistry()
    watch = CredentialWatch(registry, Detector(), data_dir=tmp_path)
    counter = PatternCounter(registry, service="auth-api", listeners=[watch.observe])
    for i in range(12):
        counter.observe(
            f"Dec  1 10:00:{i:02d} bastion sshd[99]: Failed password for invalid user "
            f"admin{i} from 203.0.113.77 port 4022 ssh2"
        )
    text = generate_latest(registry).decode()
    assert (
        registry.get_sample_value(
            "llm_sre_credential_stuffing_detections_total", {"service": "auth-api", "shape": "single_source"}
        )
        == 1
    )
    assert registry.get_sample_value("llm_sre_auth_failed_accounts") == 12
    assert "203.0.113.77" not in text and "admin1" not in text
    saved = json.loads((tmp_path / "security.json").read_text())
    assert saved["detections"][0]["key"] == "203.0.113.77"  # the API and the log name the source
    assert saved["topOffenders"][0] == {"source": "203.0.113.77", "failures": 10}  # as of the detection


def test_clusters_become_evidence_for_an_alert_on_one_of_their_services(tmp_path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from alert_webhooks.analysis.case import AlertFacts, Case
    from clustering.evidence import ClusterSource
    from clustering.store import save_snapshot

    save_snapshot(tmp_path, {"incidents": [
        {"incidentId": "cl-1", "severity": "critical", "events": 4, "services": ["ingest", "rag-api"],
         "templates": ["connection pool exhausted"]},
        {"incidentId": "cl-2", "severity": "warning", "events": 2, "services": ["billing"],
         "templates": ["no space left on device"]}]})
    at = datetime(2026, 12, 1, tzinfo=UTC)
    case = Case((AlertFacts("AppErrorBurst", "firing", {"service": "rag-api"}, {}, at),), at)
    source = ClusterSource(tmp_path)
    found = asyncio.run(source.collect(case))
    assert [f.text for f in found] == [
        "log cluster cl-1 (critical): 4 events across ingest, rag-api; "
        "most frequent: connection pool exhausted"
    ]
    # The exporter rewrites the snapshot: the same source reads the new one, not its cached copy.
    save_snapshot(tmp_path, {"incidents": [
        {"incidentId": "cl-3", "severity": "warning", "events": 9, "services": ["rag-api"],
         "templates": ["timeout acquiring connection"]}]})
    assert [f.text for f in asyncio.run(source.collect(case))] == [
        "log cluster cl-3 (warning): 9 events across rag-api; most frequent: timeout acquiring connection"
    ]
