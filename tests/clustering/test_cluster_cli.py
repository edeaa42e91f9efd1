"""``llm-sre logs cluster``: different wordings of one cause across services land in one incident."""

from __future__ import annotations

import asyncio
import json

from alert_webhooks.analysis.llm import OllamaLLM
from clustering.embed import FallbackEmbedder
from clustering.events import read_events
from clustering.pipeline import ClusterPipeline, explain
from llm_sre.cli import main
from tests.analysis.fake_llm import FakeModelServer

LINES = [
    {
        "level": "error",
        "service": "rag-api",
        "message": "connection pool exhausted (active=20, max=20)",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    },
    {
        "level": "error",
        "service": "ingest",
        "message": "timeout acquiring connection from pool after 30000ms",
        "trace_id": "00f067aa0ba902b7a3ce929d0e0e4736",
    },
    {"level": "critical", "service": "postgres", "message": "FATAL: sorry, too many clients already"},
    {
        "level": "error",
        "service": "worker",
        "request_id": "req-81",
        "message": "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
    },
    {"level": "error", "service": "rag-api", "message": "write /data/x.bin: no space left on device"},
    {"level": "error", "service": "indexer", "message": "OSError: [Errno 28] No space left on device"},
    {"level": "warning", "service": "gateway", "message": "feature flag new-ui evaluated without a default"},
    {"level": "info", "service": "rag-api", "message": "request served"},
]


def write_log(path, extra: list[str] = ()) -> None:
    path.write_text("\n".join([*(json.dumps(r) for r in LINES), *extra]) + "\n")


def run_cli(capsys, *args: str) -> dict:
    assert main(["logs", "cluster", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_same_cause_different_words_one_incident(tmp_path, capsys) -> None:
    log = tmp_path / "app.log"
    write_log(log, ['{"level": "error", "message": "broken', "\x00\x01binary"])
    out = run_cli(capsys, str(log), "--json", "--embedder", "local", "--no-llm")
    cluster = {row["line_no"]: row["cluster"] for row in out["lines"]}
    db = {cluster[n] for n in (1, 2, 3, 4)}
    disk = {cluster[n] for n in (5, 6)}
    assert len(db) == 1 and -1 not in db
    assert len(disk) == 1 and -1 not in disk and disk != db
    assert cluster[7] == -1  # a one-off warning is noise
    assert 8 not in cluster  # info lines are not events
    assert out["stats"] == {
        "lines": 10,
        "unparseable": 2,
        "ignored": 1,
        "unparseableReasons": {"invalid_json": 1, "binary": 1},
    }
    assert (out["embedder"], out["embedderFallbackReason"]) == ("local", None)
    (db_id,) = db
    [pool] = [i for i in out["incidents"] if i["cluster"] == db_id]
    assert set(pool) >= {"incidentId", "startTime", "severity", "rootCauseAnalysis", "relatedTraces"}
    assert pool["services"] == ["ingest", "postgres", "rag-api", "worker"]
    assert pool["severity"] == "critical"
    assert set(pool["relatedTraces"]) == {
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7a3ce929d0e0e4736",
        "req-81",
    }
    assert "db connections exhausted" in pool["rootCauseAnalysis"]


def test_embedding_server_down_says_which_embedder_ran(tmp_path, capsys, monkeypatch) -> None:
    log = tmp_path / "app.log"
    write_log(log)
    out = run_cli(capsys, str(log), "--json", "--embedder", "ollama", "--no-llm")
    assert (out["embedder"], out["embedderFallbackReason"]) == ("local", "unavailable")
    assert len(out["lines"]) == 7  # no event lost


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    try:
        main(["logs", "cluster", str(tmp_path / "nope.log")])
    except SystemExit as exc:
        assert "cannot read" in str(exc)
    else:
        raise AssertionError("expected SystemExit")


def test_secrets_never_reach_the_output(tmp_path, capsys) -> None:
    log = tmp_path / "app.log"
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    lines = [
        json.dumps({"level": "error", "service": s, "message": f"auth to github failed token={token}"})
        for s in ("a", "b")
    ]
    log.write_text("\n".join(lines) + "\n")
    text = json.dumps(run_cli(capsys, str(log), "--json", "--embedder", "local", "--no-llm"))
    assert token not in text


def _incident():
    events, _ = read_events([json.dumps(r) for r in LINES[:4]])
    run = ClusterPipeline(FallbackEmbedder(None)).run(events)
    [incident] = run.incidents
    return incident


def test_a_grounded_model_answer_replaces_the_deterministic_rca() -> None:
    incident = _incident()
    answer = (
        "Clients exceed the database connection limit: the pool is exhausted on services ingest, "
        "postgres, rag-api, worker [E1]."
    )
    with FakeModelServer(json.dumps({"answer": answer})) as server:
        asyncio.run(explain([incident], OllamaLLM(server.url, "qwen2.5:7b"), deadline=5))
    assert incident.analysisBackend == "ollama"
    assert incident.rootCauseAnalysis.startswith("Clients exceed")


def test_an_invented_fact_keeps_the_deterministic_rca() -> None:
    incident = _incident()
    before = incident.rootCauseAnalysis
    with FakeModelServer(
        json.dumps({"answer": "Host db-primary-7 ran out of disk at 03:12 [E1]."})
    ) as server:
        asyncio.run(explain([incident], OllamaLLM(server.url, "qwen2.5:7b"), deadline=5))
    assert (incident.rootCauseAnalysis, incident.analysisBackend) == (before, "deterministic")


def test_hdbscan_groups_the_same_causes() -> None:
    events, _ = read_events([json.dumps(r) for r in LINES])
    run = ClusterPipeline(FallbackEmbedder(None), algorithm="hdbscan").run(events)
    labels = dict(zip((e.line_no for e in events), run.labels, strict=True))
    assert len({labels[n] for n in (1, 2, 3, 4)}) == 1 and labels[1] != -1
    assert labels[5] == labels[6] != labels[1]
