"""The fallback chain under faults, against the fake Loki's real refusals and real processes.

Loki down while logging at rate, the disk budget reached, kill -9 of the app, Loki's own 4xx
answers (line too long, too old, out of order, too large) and the exit without a stall.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from exporters.catalogue import SPECS
from exporters.dlq import DeadLetters
from exporters.failures import Action, Cause, classify_exception, classify_response
from exporters.loki import LokiHandler, LokiOptions
from exporters.loki_push import Entry, Pusher
from exporters.spill import Budget, Segments, writer_dirs
from llm_sre.processes import free_port, wait_until

from .loki_receiver import LokiReceiver, encode_protobuf

LABELS = {"service": "rag-api", "env": "test"}
LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)


def options(tmp_path: Path, **kw: object) -> LokiOptions:
    base: dict[str, object] = {"batch_wait": 0.05, "backoff": 0.05, "max_backoff": 0.2, "timeout": 5.0,
                               "spill_dir": tmp_path / "spill", "dlq_dir": tmp_path / "dlq",
                               "drain_bytes_per_second": 50_000_000}
    return LokiOptions(**{**base, **kw})  # type: ignore[arg-type]


def record(i: int, level: int, created: float) -> logging.LogRecord:
    rec = logging.LogRecord("rag.api", level, __file__, 1, "event %d", (i,), None)
    rec.created = created
    return rec


def delivered(receiver: LokiReceiver) -> list[dict]:
    return [json.loads(line) for line in receiver.lines()]


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_loki_down_while_logging_loses_no_warning_or_error_and_replays_in_order(tmp_path):
    receiver = LokiReceiver(free_port())  # not started: Loki is down
    registry = CollectorRegistry()
    handler = LokiHandler(receiver.url, LABELS, options(tmp_path), registry=registry)
    start = time.time()
    created = [start + i * 0.0002 for i in range(6000)]  # 5,000 records/s of app time
    for i, t in enumerate(created):
        handler.handle(record(i, LEVELS[i % 4], t))
    wait_until(lambda: handler.store.bytes > 0 and not handler._buffer, 10, what="records spilled")
    receiver.start()
    try:
        kept = 6000 - value(registry, "llm_sre_loki_records_sampled_out_total", level="debug") - value(
            registry, "llm_sre_loki_records_sampled_out_total", level="info")
        wait_until(lambda: len(receiver.entries) == kept, 30, what="everything replayed after recovery")
        handler.close()
    finally:
        receiver.stop()
    rows = delivered(receiver)
    numbers = [int(r["message"].split()[1]) for r in rows]
    assert numbers == sorted(numbers)  # the stream's order is kept
    assert [int(ns) for _, ns, _, _ in receiver.entries] == [int(created[n] * 1e9) for n in numbers]
    serious = {n for n in numbers if LEVELS[n % 4] >= logging.WARNING}
    assert serious == {i for i in range(6000) if LEVELS[i % 4] >= logging.WARNING}  # none lost
    sampled = [r for r in rows if "sample_rate" in r]
    assert all(r["level"] in ("debug", "info") for r in sampled)
    assert value(registry, "llm_sre_loki_records_dropped_total", reason="memory_full", level="error") == 0


def test_disk_budget_drops_by_priority_counted_by_level_while_loki_is_down(tmp_path):
    receiver = LokiReceiver(free_port())
    registry = CollectorRegistry()
    budget = Budget(max_bytes=60_000, hard_bytes=90_000, min_free_bytes=0)
    handler = LokiHandler(receiver.url, LABELS, options(tmp_path, budget=budget, sampling=None,
                                                       memory_bytes=20_000), registry=registry)
    now = time.time()
    for i in range(2000):
        handler.handle(record(i, LEVELS[i % 4], now + i * 1e-4))
        if i % 100 == 99:  # let the worker spill between bursts, as it would at a steady rate
            wait_until(lambda: not handler._buffer, 10, what="buffer spilled")
    handler.close()
    dropped = {lv: value(registry, "llm_sre_loki_records_dropped_total", reason="disk_budget", level=lv)
               for lv in ("debug", "info", "warning")}
    hard = value(registry, "llm_sre_loki_records_dropped_total", reason="disk_hard_limit", level="error")
    memory = sum(value(registry, "llm_sre_loki_records_dropped_total", reason="memory_full", level=lv)
                 for lv in ("debug", "info", "warning", "error"))
    assert memory == 0
    assert dropped["debug"] >= dropped["info"] >= dropped["warning"] > 0  # lower levels go first
    assert hard < dropped["warning"]
    receiver.start()
    try:
        again = LokiHandler(receiver.url, LABELS, options(tmp_path, sampling=None),
                            registry=CollectorRegistry())
        spilled = value(registry, "llm_sre_loki_records_spilled_total")
        wait_until(lambda: len(receiver.entries) == spilled, 30, what="spill replayed at the next start")
        again.close()
    finally:
        receiver.stop()
    kept = [int(r["message"].split()[1]) for r in delivered(receiver)]
    for level in (logging.DEBUG, logging.INFO, logging.WARNING):  # a refused level is never kept later
        lost = [i for i in range(2000) if LEVELS[i % 4] == level and i not in set(kept)]
        later = [i for i in kept if LEVELS[i % 4] <= level and lost and i > lost[0]]
        assert not later, f"{logging.getLevelName(level)} refused at #{lost[0]} but lower records kept after"


def test_buffer_past_high_water_spills_and_drains_in_order(tmp_path):
    receiver = LokiReceiver(free_port()).start()
    registry = CollectorRegistry()
    # The worker only wakes for the high-water mark: no batch fills, no batch_wait passes.
    opts = options(tmp_path, sampling=None, memory_bytes=40_000, batch_size=10**6, batch_wait=3600.0)
    handler = LokiHandler(receiver.url, LABELS, opts, registry=registry)
    try:
        now = time.time()
        for i in range(1000):
            handler.handle(record(i, logging.INFO, now + i * 1e-4))
        spilled = lambda: value(registry, "llm_sre_loki_records_spilled_total")  # noqa: E731
        wait_until(lambda: spilled() > 0 and not handler._spilling, 20, what="spilled records drained")
        handler.flush()  # the tail below the high-water mark
    finally:
        handler.close()
        receiver.stop()
    assert value(registry, "llm_sre_loki_records_spilled_total") > 0
    numbers = [int(r["message"].split()[1]) for r in delivered(receiver)]
    assert numbers == sorted(numbers) and len(numbers) > 100  # in order; what is missing was counted
    assert len(numbers) + value(registry, "llm_sre_loki_records_dropped_total", reason="memory_full",
                                level="info") == 1000


KILL_CHILD = textwrap.dedent("""
    import logging, pathlib, sys, time
    from prometheus_client import CollectorRegistry
    from exporters.loki import LokiHandler, LokiOptions
    options = LokiOptions(memory_bytes=int(sys.argv[3]), batch_wait=0.05, backoff=0.05, sampling=None,
                          spill_dir=pathlib.Path(sys.argv[2]), fsync="never")
    registry = CollectorRegistry()
    handler = LokiHandler(sys.argv[1], {"service": "killed", "env": "test"}, options, registry=registry)
    log = logging.getLogger("app")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for i in range(5000):
        log.info("record %06d", i)
    # On a loaded machine the spill thread can fall behind the emitter: those records are dropped
    # (counted by reason) rather than block the app; the parent subtracts them.
    dropped = sum(s.value for m in registry.collect() if m.name == "llm_sre_loki_records_dropped"
                  for s in m.samples if s.name.endswith("_total"))
    print("emitted", int(dropped), flush=True)
    time.sleep(60)
""")


def test_kill_9_loses_at_most_the_memory_buffer(tmp_path):
    memory_bytes = 64_000
    url = f"http://127.0.0.1:{free_port()}"  # Loki down: everything must reach the spill
    argv = [sys.executable, "-c", KILL_CHILD, url, str(tmp_path / "spill"), str(memory_bytes)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        word, dropped = child.stdout.readline().split()
        assert word == "emitted"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    on_disk, sizes = [], []
    for writer in writer_dirs(next((tmp_path / "spill").iterdir())):
        batch, _ = Segments(writer).read(10**6, 1 << 40)
        on_disk += [json.loads(e.line)["message"] for e in batch]
        sizes += [len(e.line) for e in batch]
    numbers = [int(m.split()[1]) for m in on_disk]
    assert numbers == sorted(set(numbers))  # in order, no repeats
    if dropped == "0":  # nothing dropped: a prefix, no holes
        assert numbers == list(range(len(numbers)))
    line = min(sizes)  # the records are alike: the smallest one bounds how many the buffer holds
    # Every record is on disk, counted as dropped, or was in memory when the kill came: the buffer
    # plus the batch the worker had taken out of it and was writing (no larger than the buffer).
    assert 5000 - len(on_disk) - int(dropped) <= 2 * (memory_bytes // (line + 64) + 1)


def test_line_too_long_is_truncated_to_lokis_limit_and_sent_again(tmp_path):
    receiver = LokiReceiver(free_port(), max_line_size=500).start()
    try:
        with httpx.Client() as client:
            pusher = Pusher(client, receiver.url, LABELS)
            outcome = pusher.push([Entry("1", "a" * 2000, {}, 40), Entry("2", "short", {}, 20)])
    finally:
        receiver.stop()
    assert outcome.sent == 2 and not outcome.parked
    assert [r.status for r in receiver.requests] == [400, 204]
    assert "Max entry size '500' bytes exceeded" in receiver.requests[0].body
    long_line = receiver.lines()[-1]
    assert len(long_line.encode()) <= 500 and long_line.endswith("…[truncated]")


def test_too_old_and_out_of_order_are_parked_not_retried_forever(tmp_path):
    now_ns = time.time_ns()
    receiver = LokiReceiver(free_port(), reject_before_ns=now_ns - 3600 * 10**9, unordered_writes=False)
    receiver.start()
    registry = CollectorRegistry()
    handler = LokiHandler(receiver.url, LABELS, options(tmp_path, sampling=None), registry=registry)
    try:
        handler.handle(record(1, logging.ERROR, now_ns / 1e9))
        handler.flush()
        handler.handle(record(2, logging.ERROR, now_ns / 1e9 - 60))  # older than the newest: out of order
        handler.flush()
        handler.handle(record(3, logging.ERROR, now_ns / 1e9 - 7200))  # older than reject_old_samples
        handler.flush()
    finally:
        handler.close()
        receiver.stop()
    assert [r.status for r in receiver.requests] == [204, 400, 400]  # one try each
    assert "entry out of order" in receiver.requests[1].body
    assert "timestamp too old" in receiver.requests[2].body
    assert DeadLetters(tmp_path / "dlq").counts() == {"out_of_order": (1, 1), "too_old": (1, 1)}
    assert value(registry, "llm_sre_loki_dead_letters_total", cause="too_old") == 1


def test_too_far_behind_is_classified_from_lokis_message():
    receiver = LokiReceiver(free_port(), window_ns=10**9).start()
    try:
        with httpx.Client() as client:
            pusher = Pusher(client, receiver.url, LABELS)
            assert pusher.push([Entry(str(10 * 10**9), "new", {}, 20)]).sent == 1
            outcome = pusher.push([Entry(str(5 * 10**9), "old", {}, 20)])
    finally:
        receiver.stop()
    [(_, failure)] = outcome.parked
    assert failure.cause is Cause.TOO_OLD and "entry too far behind" in failure.detail


def test_batch_too_large_is_split_until_it_fits():
    receiver = LokiReceiver(free_port(), rate_limit_bytes=0).start()
    receiver.script.extend([(413, {}), (413, {})])
    try:
        with httpx.Client() as client:
            batch = [Entry(str(i), f"l{i}", {}, 20) for i in range(8)]
            outcome = Pusher(client, receiver.url, LABELS).push(batch)
    finally:
        receiver.stop()
    assert outcome.sent == 8 and outcome.retry is None
    assert receiver.lines() == [f"l{i}" for i in range(8)]  # halves in order


def test_rate_limited_push_is_pending_for_retry():
    receiver = LokiReceiver(free_port(), rate_limit_bytes=10).start()
    try:
        with httpx.Client() as client:
            outcome = Pusher(client, receiver.url, LABELS).push([Entry("1", "x" * 100, {}, 20)])
    finally:
        receiver.stop()
    assert outcome.retry is not None and outcome.retry.cause is Cause.RATE_LIMITED
    assert "Ingestion rate limit exceeded" in outcome.retry.detail and len(outcome.pending) == 1


@pytest.mark.parametrize(("status", "text", "cause", "action"), [
    (429, "", Cause.RATE_LIMITED, Action.RETRY),
    (503, "", Cause.SERVER_ERROR, Action.RETRY),
    (413, "", Cause.BATCH_TOO_LARGE, Action.SPLIT),
    (400, "Max entry size '10' bytes exceeded for stream '{a=\"b\"}'", Cause.LINE_TOO_LONG, Action.TRUNCATE),
    (400, "entry for stream '{a=\"b\"}' has timestamp too old: x", Cause.TOO_OLD, Action.PARK),
    (400, "Error parsing labels '{ab\"' with error: 1:4: parse error", Cause.INVALID_LABELS, Action.PARK),
    (401, "no org id", Cause.REJECTED, Action.PARK),
])
def test_classification_table(status, text, cause, action):
    failure = classify_response(status, text)
    assert (failure.cause, failure.action) == (cause, action)


def test_every_cause_is_a_catalogued_label_value():
    assert tuple(c.value for c in Cause) == SPECS["llm_sre_loki_dead_letters_total"].values["cause"]


def test_exceptions_are_classified_and_details_masked():
    assert classify_exception(httpx.ConnectTimeout("slow")).cause is Cause.TIMEOUT
    assert classify_exception(httpx.ConnectError("refused")).cause is Cause.NETWORK
    bug = classify_exception(KeyError("password=hunter22"))
    assert bug.cause is Cause.LOCAL_BUG and "hunter22" not in bug.detail


def test_fake_loki_accepts_protobuf_snappy_and_refuses_garbage():
    receiver = LokiReceiver(free_port()).start()
    try:
        body = encode_protobuf([(LABELS, "1700000000000000001", "from promtail", {"trace_id": "abc"})])
        headers = {"Content-Type": "application/x-protobuf"}
        ok = httpx.post(receiver.url + "/loki/api/v1/push", content=body, headers=headers)
        bad = httpx.post(receiver.url + "/loki/api/v1/push", content=b"not snappy", headers=headers)
        ready = httpx.get(receiver.url + "/ready")
    finally:
        receiver.stop()
    assert (ok.status_code, bad.status_code, ready.status_code) == (204, 400, 200)
    assert receiver.entries == [(LABELS, "1700000000000000001", "from promtail", {"trace_id": "abc"})]


SHUTDOWN_CHILD = textwrap.dedent("""
    import logging, pathlib, sys
    from exporters.loki import LokiHandler, LokiOptions
    handler = LokiHandler(sys.argv[1], {"service": "exit", "env": "test"},
                          LokiOptions(batch_wait=30, close_timeout=20, spill_dir=pathlib.Path(sys.argv[2])))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)   # httpx logs each push at INFO from the shipping thread
    for i in range(100):
        logging.getLogger("app").info("line %d", i)
""")


def test_exit_with_queued_records_does_not_stall(tmp_path):
    """Issue 18 item 7: before the fix this exit waited close_timeout twice over (here 41 s)."""
    receiver = LokiReceiver(free_port()).start()
    try:
        subprocess.run([sys.executable, "-c", SHUTDOWN_CHILD, receiver.url, str(tmp_path / "spill")],
                       check=True, timeout=15)
    finally:
        receiver.stop()
    assert len(receiver.entries) == 100
