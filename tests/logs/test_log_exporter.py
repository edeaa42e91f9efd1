"""The log-pattern exporter: the three series, bounded patterns, persistence, and its sources."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from prometheus_client import CollectorRegistry

from exporters.log_exporter import (
    OTHER,
    FileSource,
    LineSource,
    LokiSource,
    PatternCounter,
    TopPatterns,
    normalise_route,
)
from llm_sre.processes import free_port


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def events(registry: CollectorRegistry, **labels: str) -> float:
    return registry.get_sample_value("llm_sre_log_events_total", labels) or 0.0


def new_patterns(registry: CollectorRegistry, **labels: str) -> float:
    return registry.get_sample_value("llm_sre_log_new_patterns_total", labels) or 0.0


def app_errors(registry: CollectorRegistry, **labels: str) -> float:
    return registry.get_sample_value("llm_sre_app_errors_total", labels) or 0.0


def test_counts_events_by_service_level_and_pattern():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="rag-api")
    first = counter.observe("2026-11-26 10:00:00,001 INFO rag.api: retrieval done in 81ms docs=3")
    counter.observe("2026-11-26 10:00:01,002 INFO rag.api: retrieval done in 95ms docs=4")
    error = counter.observe(
        '{"level": "error", "message": "rerank failed after 3 tries", "service": "worker"}'
    )
    assert events(registry, service="rag-api", level="info", pattern=first.pattern_id) == 2
    assert events(registry, service="worker", level="error", pattern=error.pattern_id) == 1
    assert new_patterns(registry, service="rag-api", level="info") == 1
    assert new_patterns(registry, service="worker", level="error") == 1


def test_app_errors_from_structured_records_and_5xx_access_lines():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="rag-api")
    for n in (17, 18):
        counter.observe(
            json.dumps(
                {
                    "level": "error",
                    "message": "upstream failed",
                    "route": f"/v1/documents/{n}",
                    "error_code": "E_UPSTREAM",
                }
            )
        )
    counter.observe('INFO:     10.0.0.2:5000 - "POST /v1/chat?stream=1 HTTP/1.1" 502 Bad Gateway')
    counter.observe('{"level": "info", "message": "ok", "route": "/v1/chat", "error_code": "none"}')
    counter.observe("2026-11-26 10:00:00,001 ERROR rag.api: unstructured failure")
    assert app_errors(registry, service="rag-api", route="/v1/documents/:id", error_code="E_UPSTREAM") == 2
    assert app_errors(registry, service="rag-api", route="/v1/chat", error_code="502") == 1
    total = sum(
        s.value
        for m in registry.collect()
        if m.name == "llm_sre_app_errors"
        for s in m.samples
        if s.name == "llm_sre_app_errors_total"
    )
    assert total == 3  # info records and errors without route/code are not app errors


@pytest.mark.parametrize(
    ("route", "label"),
    [
        ("/v1/documents/123?x=1", "/v1/documents/:id"),
        ("/v1/chat", "/v1/chat"),
        ("/u/550e8400-e29b-41d4-a716-446655440000/files", "/u/:id/files"),
        ("", "/"),
    ],
)
def test_normalise_route(route, label):
    assert normalise_route(route) == label


def test_pattern_labels_are_bounded_per_service_and_level():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="svc", top_n=2)
    lines = ("worker pool started", "cache warmed up nicely", "index loaded from disk today")
    ids = [counter.observe(line).pattern_id for line in lines]
    err = counter.observe("ERROR something exploded").pattern_id
    assert events(registry, service="svc", level="info", pattern=ids[0]) == 1
    assert events(registry, service="svc", level="info", pattern=ids[1]) == 1
    assert events(registry, service="svc", level="info", pattern=ids[2]) == 0
    assert events(registry, service="svc", level="info", pattern=OTHER) == 1
    # a full info budget does not crowd out the first error pattern
    assert events(registry, service="svc", level="error", pattern=err) == 1


def test_a_much_busier_pattern_takes_over_the_weakest_label():
    clock = Clock()
    top = TopPatterns(limit=2, half_life=60.0)
    assert top.label("k", "p1", clock()) == ("p1", None)
    assert top.label("k", "p2", clock()) == ("p2", None)
    for _ in range(5):
        top.label("k", "p1", clock())
    clock.t += 600  # p1 and p2 decay; p3 becomes the busy one
    labels = [top.label("k", "p3", clock()) for _ in range(3)]
    assert labels[0] == ("p3", "p2")  # 1 > 2 x p2's decayed 0.0009
    assert labels[1:] == [("p3", None), ("p3", None)]
    assert top.admitted["k"] == {"p1", "p3"}


def test_evicted_pattern_series_is_removed():
    registry = CollectorRegistry()
    clock = Clock()
    counter = PatternCounter(registry, service="svc", top_n=1, clock=clock)
    old = counter.observe("worker alpha started").pattern_id
    clock.t += 30 * 3600  # a day later the old pattern's volume has decayed to nothing
    new = counter.observe("cache beta flushed").pattern_id
    assert events(registry, service="svc", level="info", pattern=new) == 1
    assert (
        registry.get_sample_value(
            "llm_sre_log_events_total", {"service": "svc", "level": "info", "pattern": old}
        )
        is None
    )


def test_state_survives_restart(tmp_path):
    first = PatternCounter(CollectorRegistry(), service="svc", state_dir=tmp_path, top_n=1)
    a = first.observe("worker alpha started").pattern_id
    first.observe("cache beta flushed")
    first.save()
    registry = CollectorRegistry()
    second = PatternCounter(registry, service="svc", state_dir=tmp_path, top_n=1)
    assert second.observe("worker alpha started").pattern_id == a
    second.observe("cache beta flushed")
    assert new_patterns(registry, service="svc", level="info") == 0  # nothing is new after a restart
    assert events(registry, service="svc", level="info", pattern=a) == 1  # still the admitted one
    assert events(registry, service="svc", level="info", pattern=OTHER) == 1


def test_file_source_follows_new_lines_and_rotation(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("old line before the exporter started 1\n")
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="default")
    source = FileSource(counter, {log: "rag-api"}, tmp_path / "state" / "offsets.json")
    source.poll()
    assert events(registry, service="rag-api", level="info", pattern="p1") == 0  # history skipped
    with log.open("a") as f:
        f.write("request 1 served\nrequest 2 served\nrequest 3 partial")
    source.poll()
    [pid] = counter.miner.templates()
    assert events(registry, service="rag-api", level="info", pattern=pid) == 2  # the partial line waits
    with log.open("a") as f:
        f.write(" line\n")
    log.rename(tmp_path / "app.log.1")  # rename rotation; the old file's tail is still read
    log.write_text("request 9 served\n")
    source.poll()
    total = sum(
        events(registry, service="rag-api", level="info", pattern=p) for p in counter.miner.templates()
    )
    assert total == 4


def test_file_source_from_start_reads_history(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("boot 1\nboot 2\n")
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="svc")
    FileSource(counter, {log: "svc"}, tmp_path / "offsets.json", from_start=True).poll()
    [pid] = counter.miner.templates()
    assert events(registry, service="svc", level="info", pattern=pid) == 2


class FakeLoki:
    """Answers GET /loki/api/v1/query_range like Loki: streams of [ns, line] within (start, end]."""

    def __init__(self, entries: list[tuple[int, str, str]]) -> None:
        self.entries = entries
        self.queries: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.queries.append(query)
                start, end, limit = int(query["start"][0]), int(query["end"][0]), int(query["limit"][0])
                rows = sorted(e for e in fake.entries if start <= e[0] <= end)[:limit]
                streams: dict[str, list[list[str]]] = {}
                for ns, service, line in rows:
                    streams.setdefault(service, []).append([str(ns), line])
                body = json.dumps(
                    {
                        "status": "success",
                        "data": {
                            "resultType": "streams",
                            "result": [{"stream": {"service": s}, "values": v} for s, v in streams.items()],
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def fake_loki() -> Iterator[FakeLoki]:
    loki = FakeLoki([])
    yield loki
    loki.server.shutdown()
    loki.server.server_close()


def test_loki_source_pages_and_never_counts_a_line_twice(fake_loki):
    clock = Clock()
    base = int(clock.t * 1e9)
    fake_loki.entries = [(base + i, "rag-api" if i % 2 else "worker", f"job {i} done") for i in range(1, 8)]
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="x")
    with httpx.Client() as client:
        source = LokiSource(
            counter, client, fake_loki.url, '{service=~".+"}', interval=5, limit=3, clock=clock
        )
        clock.t += 1
        source.poll()
        source.poll()  # nothing new: nothing counted again
    [pid] = counter.miner.templates()
    assert events(registry, service="rag-api", level="info", pattern=pid) == 4
    assert events(registry, service="worker", level="info", pattern=pid) == 3
    assert len(fake_loki.queries) == 4  # three pages (3+3+1) then an empty poll
    assert fake_loki.queries[0]["direction"] == ["forward"]


def test_prune_forgets_only_decayed_unlabelled_patterns():
    top = TopPatterns(limit=1, half_life=60.0)
    assert top.label("k", "p1", 0.0) == ("p1", None)
    assert top.label("k", "p2", 0.0) == (OTHER, None)  # over the limit, not busier
    top.prune(30.0)
    assert set(top.scores["k"]) == {"p1", "p2"}  # p2 is unlabelled but still recent
    top.prune(3600.0)
    assert set(top.scores["k"]) == {"p1"}  # labelled patterns keep their volume


def test_line_source_counts_an_iterable_such_as_stdin():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="svc")
    source = LineSource(counter, iter(["job 1 done\n", "\n", "job 2 done\n"]), service="batch")
    source.poll()
    source.poll()  # exhausted: nothing more
    [pid] = counter.miner.templates()
    assert events(registry, service="batch", level="info", pattern=pid) == 2


def test_error_messages_never_become_label_values():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="svc")
    counter.observe(
        '{"level": "error", "message": "x", "route": "/a", "error_type": "db password=hunter2 rejected"}'
    )
    assert app_errors(registry, service="svc", route="/a", error_code="_OTHER") == 1


# HDFS-style lines no per-line parser knows: "<Date> <Time> <Pid> <Level> <Component>: <Content>".
_HEADED = [f"081109 2036{i:02d} {140 + i} {level} dfs.{component}: served block blk_{i}{i} to /10.0.0.{i}"
           for i, (level, component) in enumerate([("INFO", "DataNode"), ("INFO", "FSNamesystem"),
                                                    ("WARN", "DataNode$Responder")] * 3)]


def _one_template_without_header(counter: PatternCounter) -> str:
    [template] = counter.miner.templates().values()
    assert template == "served block <ID> to /<IP>"  # neither the component nor the pid
    return next(iter(counter.miner.templates()))


def test_a_file_header_is_detected_from_its_first_lines_even_when_reading_starts_at_the_end(tmp_path):
    log = tmp_path / "hdfs.log"  # the name says nothing; the first lines decide
    log.write_text("\n".join(_HEADED[:6]) + "\n")
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="hdfs")
    source = FileSource(counter, {log: "hdfs"}, tmp_path / "offsets.json")  # history skipped
    source.poll()
    with log.open("a") as f:
        f.write("\n".join(_HEADED[6:]) + "\n")
    source.poll()
    pid = _one_template_without_header(counter)
    assert events(registry, service="hdfs", level="info", pattern=pid) == 2
    assert events(registry, service="hdfs", level="warning", pattern=pid) == 1  # the header's level


def test_stdin_and_loki_streams_detect_their_header_too(fake_loki):
    clock = Clock()
    stdin = PatternCounter(CollectorRegistry(), service="svc")
    LineSource(stdin, iter(line + "\n" for line in _HEADED), service="hdfs").poll()
    _one_template_without_header(stdin)
    fake_loki.entries[:] = [(int(1_000_000.5e9) + i, "hdfs", line) for i, line in enumerate(_HEADED)]
    loki = PatternCounter(CollectorRegistry(), service="x")
    with httpx.Client() as client:
        clock.t += 1
        LokiSource(loki, client, fake_loki.url, '{service=~".+"}', interval=5, clock=clock).poll()
    _one_template_without_header(loki)


def test_lines_without_a_known_header_are_parsed_one_by_one():
    counter = PatternCounter(CollectorRegistry(), service="svc")
    lines = ['{"level": "error", "message": "rerank failed after 3 tries"}', "plain words 1", "plain words 2"]
    LineSource(counter, iter(lines), service="app").poll()
    assert sorted(counter.miner.templates().values()) == [
        "plain words <NUM>", "rerank failed after <NUM> tries"]


def test_the_miners_own_counts_are_exported():
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service="svc")
    counter.miner.max_templates = 2
    lines = ["alpha started 1", "alpha started 2", "beta stopped", "gamma failed", "bad \x00 bytes", "\t"]
    for line in lines:
        counter.observe(line)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("llm_sre_log_miner_lines_total") == 6
    assert value("llm_sre_log_miner_templates") == 2
    assert value("llm_sre_log_miner_evictions_total") == 3  # beta, gamma, then the control-character line
    assert value("llm_sre_log_miner_malformed_lines_total", reason="control") == 1
    assert value("llm_sre_log_miner_malformed_lines_total", reason="empty") == 1
    assert value("llm_sre_log_miner_malformed_lines_total", reason="truncated") == 0
