"""Spill segments on a real file system: rotation, crash damage, adoption, and the priority budget."""

from __future__ import annotations

import json
import logging

from exporters.loki_push import Entry
from exporters.spill import Budget, Segments, SpillStore, level_name, stream_name, writer_dirs

LABELS = {"service": "rag-api", "env": "test"}


def entries(n: int, level: int = logging.INFO, start: int = 0, pad: int = 0) -> list[Entry]:
    return [Entry(str(1_700_000_000_000_000_000 + i), f"line {i}" + "x" * pad, {}, level)
            for i in range(start, start + n)]


def lines_of(batch: list[Entry]) -> list[str]:
    return [e.line for e in batch]


def test_segments_rotate_by_size_and_commit_forgets_delivered_ones(tmp_path):
    store = SpillStore(tmp_path, LABELS, segment_bytes=1_000)
    assert store.append(entries(100)) == []
    assert len(store.segments.segments()) > 3
    first, position = store.read(40, 1 << 20)
    assert lines_of(first) == [f"line {i}" for i in range(40)]
    store.commit(position)
    rest, position = store.read(1000, 1 << 20)
    assert lines_of(rest) == [f"line {i}" for i in range(40, 100)]  # oldest first, nothing twice
    store.commit(position)
    assert store.empty() and store.bytes == 0
    store.close()
    assert not any(writer_dirs(store.stream_dir))  # an empty writer directory is not left behind


def test_torn_last_line_and_corrupt_lines_are_skipped_not_fatal(tmp_path):
    segments = Segments(tmp_path / "w", segment_bytes=1 << 20)
    good = [json.dumps(e.to_json()).encode() + b"\n" for e in entries(3)]
    segments.append([good[0], b"{not json}\n", good[1], b'{"ts": "x", "line": 1}\n', good[2]])
    segments.close()
    path = segments.segments()[-1]
    with path.open("ab") as handle:
        handle.write(b'{"ts": "1700000000000000009", "li')  # the process died mid-write
    again = Segments(tmp_path / "w")
    batch, position = again.read(100, 1 << 20)
    assert lines_of(batch) == ["line 0", "line 1", "line 2"]
    assert (again.stats.corrupt, again.stats.torn) == (2, 1)
    again.commit(position)
    assert again.empty()


def test_offsets_survive_a_restart(tmp_path):
    segments = Segments(tmp_path / "w")
    segments.append([json.dumps(e.to_json()).encode() + b"\n" for e in entries(10)])
    batch, position = segments.read(4, 1 << 20)
    segments.commit(position)
    segments.close()
    batch, _ = Segments(tmp_path / "w").read(100, 1 << 20)
    assert lines_of(batch) == [f"line {i}" for i in range(4, 10)]


def test_a_new_writer_adopts_what_a_dead_one_left_and_leaves_live_ones_alone(tmp_path):
    live = SpillStore(tmp_path, LABELS)
    live.append(entries(3, start=100))
    dead = SpillStore(tmp_path, LABELS, segment_bytes=500)
    dead.append(entries(20))
    batch, position = dead.read(5, 1 << 20)
    dead.commit(position)
    dead.detach()  # the process is gone: its lock is free, its files stay
    heir = SpillStore(tmp_path, LABELS)
    batch, _ = heir.read(1000, 1 << 20)
    assert lines_of(batch) == [f"line {i}" for i in range(5, 20)]  # in order, delivered ones not again
    assert heir.adopted > 1
    assert len(writer_dirs(heir.stream_dir)) == 2  # the dead writer's directory is gone; live is kept
    live.close()
    heir.close()


def test_stream_names_are_safe_and_distinct():
    a = stream_name({"service": "a/b", "env": "x"})
    b = stream_name({"service": "a_b", "env": "x"})
    assert "/" not in a and a != b


def test_disk_budget_drops_strictly_by_priority_and_errors_only_at_the_hard_limit(tmp_path):
    budget = Budget(max_bytes=20_000, hard_bytes=30_000, min_free_bytes=0)
    store = SpillStore(tmp_path, LABELS, budget=budget)
    levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    accepted: list[tuple[int, int]] = []
    refused: list[tuple[int, int, str]] = []
    for i in range(800):
        level = levels[i % 4]
        entry = Entry(str(i), f"record {i:04d} " + "y" * 40, {}, level)
        result = store.append([entry])
        if result:
            refused.append((i, level, result[0][1]))
        else:
            accepted.append((i, level))
    first_refusal = {lv: min((i for i, level, _ in refused if level == lv), default=None) for lv in levels}
    # A level is refused only after every lower level is: DEBUG first, ERROR last.
    order = [first_refusal[lv] for lv in levels]
    assert None not in order and order == sorted(order)
    for lv in levels:  # once a level is refused (the spill only grows here), it is never accepted again
        assert not [i for i, level in accepted if level == lv and i > first_refusal[lv]]
    assert {reason for _, level, reason in refused if level == logging.ERROR} == {"disk_hard_limit"}
    assert {reason for _, level, reason in refused if level < logging.ERROR} == {"disk_budget"}
    assert store.bytes <= 30_000
    store.close()


def test_free_space_floor_refuses_all_but_errors(tmp_path):
    store = SpillStore(tmp_path, LABELS, budget=Budget(min_free_bytes=1 << 62))  # any disk is "full"
    refused = store.append(entries(2, logging.WARNING) + entries(2, logging.ERROR, start=2))
    assert [(e.level, reason) for e, reason in refused] == [(logging.WARNING, "disk_free_floor")] * 2 + [
        (logging.ERROR, "disk_free_floor")] * 2
    store.close()


def test_level_names_are_bounded():
    assert [level_name(n) for n in (5, 10, 20, 25, 30, 40, 50, 60)] == [
        "debug", "debug", "info", "info", "warning", "error", "critical", "critical"]
