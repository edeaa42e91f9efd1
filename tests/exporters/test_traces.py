"""The trace sidecar counts every complete line exactly once across rotation, truncation and restarts."""

from __future__ import annotations

import json
import shutil

import pytest
from prometheus_client import CollectorRegistry

from exporters.instrument import Instruments
from exporters.tailer import JsonlTailer
from exporters.traces import TraceSource

OK = {"event": "llm.call", "model": "qwen2.5:7b", "provider": "ollama", "success": True, "latency_ms": 800,
      "prompt_tokens": 100, "completion_tokens": 20}
FAIL = {"event": "llm.call", "model": "qwen2.5:7b", "provider": "ollama", "success": False,
        "latency_ms": 30000, "error": "ReadTimeout"}
CALLS = "llm_sre_llm_calls_total"
LABELS = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "ollama",
          "gen_ai_request_model": "qwen2.5:7b"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Sidecar:
    """A trace source on a fresh registry, restartable on the same data folder."""

    def __init__(self, tmp_path, clock) -> None:
        self.traces, self.data, self.clock = tmp_path / "traces", tmp_path / "data", clock
        self.traces.mkdir(exist_ok=True)
        self.restart()

    def restart(self) -> None:
        self.registry = CollectorRegistry()
        self.source = TraceSource(Instruments(self.registry), self.traces, self.data, clock=self.clock)

    def write(self, name: str, *events: object, raw: str = "") -> None:
        with (self.traces / name).open("a") as f:
            f.writelines(json.dumps(e) + "\n" for e in events)
            f.write(raw)

    def calls(self, error: str = "") -> float:
        self.source.poll()
        return self.registry.get_sample_value(CALLS, {**LABELS, "error_type": error}) or 0.0

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def side(tmp_path):
    return Sidecar(tmp_path, Clock())


def test_events_become_metrics_and_errors_keep_only_their_class(side):
    side.write("app.jsonl", OK, FAIL, {**FAIL, "error": "connection refused by 10.0.0.7"})
    assert side.calls() == 1
    assert side.calls("ReadTimeout") == 1
    assert side.calls("_OTHER") == 1  # a message is never a label value
    assert side.sample("llm_sre_llm_tokens_total", gen_ai_provider_name="ollama",
                       gen_ai_request_model="qwen2.5:7b", gen_ai_token_type="input") == 100


def test_partial_lines_wait_and_malformed_lines_are_counted(side):
    side.write("app.jsonl", OK, raw='{"event": "llm.call", "lat')
    assert side.calls() == 1
    side.write("app.jsonl", raw='ency_ms": 5, "model": "qwen2.5:7b", "provider": "ollama"}\n')
    assert side.calls() == 2
    side.write("app.jsonl", {"event": "llm.call"}, [1, 2], {"event": "mystery"}, raw="not json\n\xff\n")
    side.source.poll()
    assert side.sample("llm_sre_trace_malformed_lines_total", reason="bad_field") == 1
    assert side.sample("llm_sre_trace_malformed_lines_total", reason="not_object") == 1
    assert side.sample("llm_sre_trace_malformed_lines_total", reason="invalid_json") == 2
    assert side.sample("llm_sre_trace_events_total", event="_OTHER") == 1


def test_rename_rotation_reads_the_old_tail_and_the_new_file_once(side):
    side.write("app.jsonl", OK)
    assert side.calls() == 1
    side.write("app.jsonl", OK)  # written just before rotation, not yet read
    (side.traces / "app.jsonl").rename(side.traces / "app.jsonl.1")
    side.write("app.jsonl", {**OK, "latency_ms": 1})
    assert side.calls() == 3
    assert side.calls() == 3


def test_copytruncate_rotation_does_not_double_count(side):
    side.write("app.jsonl", OK, OK)
    assert side.calls() == 2
    side.write("app.jsonl", FAIL)
    shutil.copy(side.traces / "app.jsonl", side.traces / "app.jsonl.1")
    (side.traces / "app.jsonl").write_text("")
    assert side.calls() == 2 and side.calls("ReadTimeout") == 1
    side.write("app.jsonl", {**OK, "latency_ms": 2})
    assert side.calls() == 3


def test_truncation_in_place_starts_over(side):
    side.write("app.jsonl", OK, OK, OK)
    assert side.calls() == 3
    (side.traces / "app.jsonl").write_text(json.dumps({**OK, "latency_ms": 3}) + "\n")
    assert side.calls() == 4


def test_offsets_survive_a_restart(side):
    side.write("app.jsonl", OK, OK)
    assert side.calls() == 2
    side.restart()
    side.write("app.jsonl", OK)
    assert side.calls() == 1  # only the line written after the restart
    state = json.loads((side.data / "exporter" / "trace-offsets.json").read_text())
    assert list(state["offsets"].values()) == [(side.traces / "app.jsonl").stat().st_size]


def test_rolling_aggregates(side):
    now = side.clock.now
    side.write("app.jsonl", *({**OK, "ts": now - 30, "latency_ms": ms} for ms in range(1, 20)),
               {**FAIL, "ts": now - 120},
               {"event": "rag.retrieve", "hits": 0, "topk": 5, "rerank_enabled": True, "latency_ms": 9},
               {"event": "rag.retrieve", "hits": 3, "topk": 5, "rerank_enabled": True, "latency_ms": 9,
                "ts": "2027-01-15T07:50:00Z"},  # = now - 10 min
               {"event": "embed.cache", "key": "k", "hit": True},
               {"event": "embed.cache", "key": "k", "hit": False})
    side.source.poll()
    one = json.loads((side.data / "metrics" / "1m.json").read_text())
    five = json.loads((side.data / "metrics" / "5m.json").read_text())
    assert one["window"] == "1m" and one["ts"] == now
    assert one["llm"] == {"calls": 19, "success_rate": 1.0, "p95_latency_ms": 19.0}
    assert five["llm"]["calls"] == 20 and five["llm"]["success_rate"] == 0.95
    assert five["llm"]["p95_latency_ms"] == 19.0
    assert one["rag"] == {"retrievals": 1, "hit_rate": 0.0, "rerank_rate": 0.0}  # old ts is outside 1m
    assert one["cache"] == {"lookups": 2, "embed_hit_rate": 0.5}
    hour = json.loads((side.data / "metrics" / "1h.json").read_text())
    assert hour["rag"] == {"retrievals": 2, "hit_rate": 0.5, "rerank_rate": 0.5}
    assert side.sample("llm_sre_rag_retrievals_total", service="app", outcome="empty") == 1
    assert side.sample("llm_sre_rag_reranks_total", service="app", outcome="skipped") == 1


def test_rolling_aggregates_survive_a_restart(side):
    now = side.clock.now
    side.write("app.jsonl", {**OK, "ts": now - 30}, {**FAIL, "ts": now - 10},
               {"event": "embed.cache", "key": "k", "hit": True, "ts": now - 3000})
    side.source.poll()
    side.clock.now += 40
    side.restart()
    side.write("app.jsonl", {**OK, "ts": side.clock.now - 1})
    side.source.poll()
    one = json.loads((side.data / "metrics" / "1m.json").read_text())
    hour = json.loads((side.data / "metrics" / "1h.json").read_text())
    assert one["llm"]["calls"] == 2 and one["llm"]["success_rate"] == 0.5  # FAIL from before + the new OK
    assert hour["llm"]["calls"] == 3 and hour["cache"] == {"lookups": 1, "embed_hit_rate": 1.0}
    side.clock.now += 3600  # an hour later the saved samples have expired like any other
    side.restart()
    side.source.poll()
    assert json.loads((side.data / "metrics" / "1h.json").read_text())["llm"]["calls"] == 0


def test_events_from_a_clock_ahead_of_ours_do_not_linger_in_the_windows(side):
    side.write("app.jsonl", {**OK, "ts": side.clock.now + 600}, {**OK, "ts": "2030-01-01T00:00:00Z"})
    side.source.poll()
    side.clock.now += 61
    side.source.rollup.write()
    assert json.loads((side.data / "metrics" / "1m.json").read_text())["llm"]["calls"] == 0
    assert json.loads((side.data / "metrics" / "5m.json").read_text())["llm"]["calls"] == 2


def test_a_corrupt_rollup_state_starts_empty(side):
    state = side.data / "exporter" / "rollup-state.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"llm": [["1", true, 5.0]], "rag": [], "cache": []}')
    side.restart()
    side.write("app.jsonl", {**OK, "ts": side.clock.now})
    side.source.poll()
    assert json.loads((side.data / "metrics" / "1m.json").read_text())["llm"]["calls"] == 1


def test_nothing_is_created_in_the_trace_folder(side):
    side.write("app.jsonl", OK)
    side.source.poll()
    assert sorted(p.name for p in side.traces.iterdir()) == ["app.jsonl"]


def test_a_line_longer_than_a_chunk_is_skipped_not_stalled(tmp_path):
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "app.jsonl").write_text('{"first": 1}\n' + "x" * 200 + "\n" + '{"after": 2}\n')
    tailer = JsonlTailer(folder, tmp_path / "state.json", chunk_bytes=64)
    batches = list(tailer.read())
    lines = [line for b in batches for line in b.lines]
    assert sum(b.dropped for b in batches) >= 1
    assert lines[0] == b'{"first": 1}' and lines[-1] == b'{"after": 2}'
    assert list(tailer.read()) == []
