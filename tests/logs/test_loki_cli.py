"""``llm-sre logs replay`` and ``llm-sre logs dlq`` against spill files and the fake Loki."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters import logs_cli
from exporters.dlq import DeadLetters
from exporters.failures import Cause, Failure
from exporters.loki_cli import parse_since
from exporters.loki_push import Entry
from exporters.settings import get_settings
from exporters.spill import SpillStore
from llm_sre.processes import free_port

from .loki_receiver import LokiReceiver

LABELS = {"service": "rag-api", "env": "test"}
BASE_NS = 1_700_000_000_000_000_000


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    logs_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["logs", *argv])
    return int(args.func(args))


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LLM_SRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LOKI_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Iterator[LokiReceiver]:
    r = LokiReceiver(free_port()).start()
    yield r
    r.stop()


def left_behind(root: Path, count: int, labels: dict[str, str] = LABELS) -> None:
    """Spill segments of a process that died before Loki came back."""
    store = SpillStore(root, labels, segment_bytes=2_000)
    store.append([Entry(str(BASE_NS + i * 10**9), f"line {i}", {}, logging.INFO) for i in range(count)])
    store.detach()


def test_replay_sends_everything_in_order_and_a_second_run_sends_nothing(tmp_path, receiver, capsys):
    left_behind(tmp_path / "spill", 120)
    left_behind(tmp_path / "spill", 5, {"service": "worker", "env": "test"})
    assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url, "--batch-size", "50") == 0
    out = capsys.readouterr()
    assert "sent 125, skipped 0, rejected 0" in out.out
    assert "bytes" in out.err  # progress per batch
    lines = [line for labels, _, line, _ in receiver.entries if labels == LABELS]
    assert lines == [f"line {i}" for i in range(120)]
    requests = len(receiver.requests)
    assert not list((tmp_path / "spill").glob("*/w*"))  # delivered writer directories are removed
    assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url) == 0
    assert "sent 0" in capsys.readouterr().out
    assert len(receiver.requests) == requests  # idempotent: nothing sent twice


def test_interrupted_replay_resumes_and_loki_drops_the_repeated_batch(tmp_path, receiver, capsys):
    left_behind(tmp_path / "spill", 30)
    receiver.script.extend([(204, {}), (503, {})])  # first batch "lands" uncounted, then Loki fails
    with pytest.raises(SystemExit, match="Loki unavailable"):
        cli("replay", str(tmp_path / "spill"), "--to", receiver.url, "--batch-size", "10")
    assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url, "--batch-size", "10") == 0
    assert receiver.lines() == [f"line {i}" for i in range(10, 30)]  # the scripted 204 stored nothing
    assert "sent 20" in capsys.readouterr().out


def test_dry_run_and_since_send_nothing_or_only_newer_records(tmp_path, receiver, capsys):
    left_behind(tmp_path / "spill", 10)
    assert cli("replay", str(tmp_path / "spill"), "--dry-run") == 0
    assert "would send 10" in capsys.readouterr().out and not receiver.requests
    since = str((BASE_NS + 6 * 10**9) / 1e9)
    assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url, "--since", since) == 0
    assert receiver.lines() == [f"line {i}" for i in range(6, 10)]
    assert "skipped 6" in capsys.readouterr().out


def test_replay_skips_directories_of_running_processes(tmp_path, receiver, capsys):
    live = SpillStore(tmp_path / "spill", LABELS)
    live.append([Entry(str(BASE_NS), "mine", {}, logging.INFO)])
    try:
        assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url) == 0
    finally:
        live.close()
    assert "1 directories in use by a running process" in capsys.readouterr().out and not receiver.entries


def test_replay_refused_records_become_dead_letters(tmp_path, data_dir, capsys):
    receiver = LokiReceiver(free_port(), reject_before_ns=BASE_NS + 5 * 10**9).start()
    try:
        left_behind(tmp_path / "spill", 10)
        assert cli("replay", str(tmp_path / "spill"), "--to", receiver.url) == 0
    finally:
        receiver.stop()
    assert "rejected 10" in capsys.readouterr().out  # Loki kept 5..9 and refused the batch for 0..4
    assert DeadLetters(data_dir / "loki-dlq").counts() == {"too_old": (1, 10)}
    assert receiver.lines() == [f"line {i}" for i in range(5, 10)]


@pytest.mark.parametrize("bad", ["yesterday", "5 minutes", ""])
def test_bad_since_is_a_clear_error(tmp_path, bad):
    (tmp_path / "spill").mkdir()
    with pytest.raises(SystemExit, match="--since"):
        cli("replay", str(tmp_path / "spill"), "--dry-run", "--since", bad or " ")


def test_parse_since_forms():
    assert parse_since("30m", now=10_000.0) == int(8_200 * 1e9)
    assert parse_since("1700000000") == 1_700_000_000 * 10**9
    assert parse_since("2023-11-14T22:13:20Z") == 1_700_000_000 * 10**9


def test_replay_of_a_missing_directory_fails_clearly(tmp_path):
    with pytest.raises(SystemExit, match="not a directory"):
        cli("replay", str(tmp_path / "nope"), "--dry-run")


def park(dlq: DeadLetters, cause: Cause, lines: list[str]) -> None:
    entries = [Entry(str(BASE_NS + i), line, {}, logging.ERROR) for i, line in enumerate(lines)]
    dlq.park(LABELS, entries, Failure(cause, "test"))


def test_dlq_list_retry_drop_by_cause(tmp_path, receiver, capsys):
    dlq = DeadLetters(tmp_path / "dlq")
    park(dlq, Cause.TOO_OLD, ["a", "b"])
    park(dlq, Cause.OUT_OF_ORDER, ["c"])
    park(dlq, Cause.INVALID_LABELS, ["d"])
    assert cli("dlq", "list", "--dir", str(tmp_path / "dlq")) == 0
    listing = capsys.readouterr().out
    assert "too_old" in listing and "total" in listing and "4 records" in listing
    dlq_dir = str(tmp_path / "dlq")
    assert cli("dlq", "retry", "--dir", dlq_dir, "--cause", "too_old", "--to", receiver.url) == 0
    assert receiver.lines() == ["a", "b"]
    assert dlq.counts() == {"out_of_order": (1, 1), "invalid_labels": (1, 1)}
    with pytest.raises(SystemExit, match="--cause CAUSE or --all"):
        cli("dlq", "drop", "--dir", str(tmp_path / "dlq"))
    assert cli("dlq", "drop", "--dir", str(tmp_path / "dlq"), "--cause", "out_of_order") == 0
    assert "dropped 1 records" in capsys.readouterr().out
    assert dlq.counts() == {"invalid_labels": (1, 1)}


def test_dlq_retry_that_fails_again_is_refiled_under_the_new_cause(tmp_path, capsys):
    receiver = LokiReceiver(free_port(), reject_before_ns=BASE_NS * 2).start()
    dlq = DeadLetters(tmp_path / "dlq")
    park(dlq, Cause.SERVER_ERROR, ["xx"])
    try:
        assert cli("dlq", "retry", "--dir", str(tmp_path / "dlq"), "--to", receiver.url) == 0
    finally:
        receiver.stop()
    assert "parked again: too_old 1" in capsys.readouterr().out
    assert dlq.counts() == {"too_old": (1, 1)}


def test_dlq_retry_while_loki_is_down_keeps_everything(tmp_path, capsys):
    dlq = DeadLetters(tmp_path / "dlq")
    park(dlq, Cause.TOO_OLD, ["a"])
    url = f"http://127.0.0.1:{free_port()}"
    assert cli("dlq", "retry", "--dir", str(tmp_path / "dlq"), "--to", url) == 1
    assert "waiting for Loki: 1" in capsys.readouterr().out
    assert dlq.counts() == {"too_old": (1, 1)}
