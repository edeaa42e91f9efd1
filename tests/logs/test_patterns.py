"""Log parsing and template mining: grouping, stable ids, bounded memory, malformed input, secrets.

Mining behaviour is checked on short hand-written lines of each family (Loghub data is only
read by bench/loghub.py)."""

from __future__ import annotations

import pytest
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

from bench.logcorpus import LOGHUB_STYLE, generate, grouping_accuracy
from exporters.logline import normalise_level, parse_line
from exporters.patterns import PatternMiner


@pytest.mark.parametrize(
    ("line", "level", "message"),
    [
        ('{"level": "ERROR", "message": "rerank failed", "route": "/v1/chat"}', "error", "rerank failed"),
        ('time=2026-11-26T23:01:05Z level=WARN source=s.go:1 msg="too large" n=3', "warning",
         "too large source=s.go:1 n=3"),
        ('[GIN] 2026/11/26 - 23:01:05 | 503 |  1.2s |  172.18.0.5 | POST     "/api/chat"', "error", None),
        ('10.0.0.1 - - [26/Nov/2026:23:01:05 +0000] "GET / HTTP/1.1" 404 12 "-" "curl"', "warning", None),
        ('INFO:     172.18.0.1:40322 - "POST /v1/chat HTTP/1.1" 500 Internal Server Error', "error", None),
        ("1:M 26 Nov 2026 23:01:02.125 # WARNING overcommit", "warning", None),
        ("[  12.3] Out of memory: Killed process 42 (ollama)", "error", None),
        ("Dec 10 06:55:46 lab sshd[24200]: Invalid user bob from 1.2.3.4", "info",
         "Invalid user bob from 1.2.3.4"),
        ("2026-11-26 23:01:05,123 CRITICAL rag.api: disk full", "critical", "rag.api: disk full"),
        ("2015-07-29 17:41:44,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:Learner@107] - LOOKING",
         "warning", "LOOKING"),
        ('  File "/app/x.py", line 3, in f', "error", None),
        ("plain line", "info", "plain line"),
        ('{"log":"2026-11-26 10:00:00,1 ERROR app: boom\\n","stream":"stderr","time":"2026-11-26T10:00:00Z"}',
         "error", "app: boom"),
        ('2026-11-26T10:00:00.123456789Z stderr F {"level": "warn", "msg": "slow"}', "warning", "slow"),
    ],
)
def test_parse_line(line, level, message):
    parsed = parse_line(line)
    assert parsed.level == level
    assert parsed.message == (line if message is None else message)


def test_json_fields_are_kept_for_error_counting():
    parsed = parse_line('{"level": "error", "msg": "x", "route": "/v1/chat", "error_code": "E_UP"}')
    assert parsed.fields == {"route": "/v1/chat", "error_code": "E_UP"}


def _ga(templates, count: int) -> float:
    rows = list(generate(templates, count))
    miner = PatternMiner()
    predicted = [miner.add(parse_line(line).message).pattern_id for _, line in rows]
    return grouping_accuracy([t for t, _ in rows], predicted)


def _default_drain3_ga(templates, count: int) -> float:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    rows = list(generate(templates, count))
    predicted = [miner.add_log_message(line)["cluster_id"] for _, line in rows]
    return grouping_accuracy([t for t, _ in rows], predicted)


@pytest.mark.parametrize("name", sorted(LOGHUB_STYLE))
def test_grouping_accuracy_on_loghub_style_samples_beats_default_drain3(name):
    assert _ga(LOGHUB_STYLE[name], 2000) >= _default_drain3_ga(LOGHUB_STYLE[name], 2000)


def test_grouping_accuracy_metric():
    assert grouping_accuracy(["a", "a", "b"], ["x", "x", "y"]) == 1.0
    assert grouping_accuracy(["a", "a", "b"], ["x", "x", "x"]) == 0.0
    assert grouping_accuracy(["a", "a", "b"], ["x", "y", "z"]) == pytest.approx(1 / 3)


def _ids(miner: PatternMiner, lines) -> list[str]:
    return [miner.add(line).pattern_id for line in lines]


def test_values_widen_one_template_and_different_wording_splits():
    miner = PatternMiner()
    users = _ids(miner, [f"Failed password for {u} from 10.0.0.{i} port {2000 + i} ssh2"
                         for i, u in enumerate(("root", "git", "ftp", "admin1"))])
    verbs = _ids(miner, ["Starting the TrustedInstaller main loop.",
                         "Ending the TrustedInstaller main loop."])
    states = _ids(miner, [f"[instance: 6e1f{i}-aa] VM {s} (Lifecycle Event)"
                          for i, s in enumerate(("Resumed", "Paused", "Started"))])
    flags = _ids(miner, [f"interceptKeyTq keycode={k} interactive=true down {d} canceled false"
                         for k, d in ((4, "true"), (5, "false"))])
    assert len(set(users)) == 1
    assert len(set(verbs)) == 2 and len(set(states)) == 3 and len(set(flags)) == 2


def test_the_object_of_a_verb_at_the_end_of_a_short_line_is_a_value():
    """``removing ftp`` / ``removing echo``: one differing word is below any similarity
    threshold on a two-word line, but the object of a verb is a value; nouns that are not
    objects (``Link error`` / ``Link ok``) and wording (``begin``/``ending``) stay apart."""
    miner = PatternMiner()
    removing = [miner.add(f"removing {s}") for s in ("daytime", "echo", "ftp", "telnet")]
    links = _ids(miner, ["Link error", "Link ok"])
    phases = _ids(miner, ["stopped Installer initialization.", "stopped Installer finalization."])
    assert len({m.pattern_id for m in removing}) == 1 and not any(m.new for m in removing[1:])
    assert removing[-1].template == "removing <*>"
    assert len(set(links)) == 2 and len(set(phases)) == 2


def test_state_words_split_templates_whichever_line_came_first():
    miner = PatternMiner()
    states = {miner.add(f"Notification: {n} (n.leader), {s} (n.state)").pattern_id
              for n in range(3) for s in ("FOLLOWING", "LEADING", "LOOKING")}
    first = miner.add("attempt_1 Attempt Transitioned from RUNNING to FAIL_CONTAINER_CLEANUP").pattern_id
    second = miner.add("attempt_2 Attempt Transitioned from RUNNING to SUCCESS_CONTAINER_CLEANUP").pattern_id
    assert len(states) == 3
    assert first != second


def test_a_different_number_of_values_is_the_same_template():
    """Brain's idea: the same constant words in the same order are one statement."""
    miner = PatternMiner()
    ids = _ids(miner, ["chrome.exe close, 403 bytes sent, 1190 bytes received, lifetime 00:01",
                       "chrome.exe close, 1190 bytes (1.16 KB) sent, 403 bytes received, lifetime <1 sec",
                       "wcp called (stack @0x7fed806eb5d @0x7fef9fb9b6d)",
                       "wcp called (stack @0x7fed806eb5d @0x7fef9fb9b6d @0x7fef9f8358f @0xff83e97c)"])
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


def test_a_line_fitting_no_template_is_new_and_later_lines_of_a_template_are_not():
    miner = PatternMiner()
    first = [miner.add(f"retrieval took {n}ms for {n % 7} docs from 10.0.0.{n % 250}") for n in range(50)]
    other = miner.add("cache evicted 12 keys")
    assert first[0].new and not any(m.new for m in first[1:])
    assert other.new and other.pattern_id != first[0].pattern_id


def test_widening_keeps_the_id():
    miner = PatternMiner()
    first = miner.add("job alpha finished in 5 steps on node east")
    widened = miner.add("job alpha finished in 7 steps on node west")
    assert widened.pattern_id == first.pattern_id and not widened.new
    assert widened.template == "job alpha finished in <NUM> steps on node <*>"


def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "patterns.state"
    lines = [f"retrieval took {i}ms for {i % 7} docs" for i in range(20)] + ["cache miss key=abc", "boot"]
    first = PatternMiner(state_path=state)
    ids = _ids(first, lines)
    first.save()
    second = PatternMiner(state_path=state)
    again = [second.add(line) for line in lines]
    assert [m.pattern_id for m in again] == ids
    assert not any(m.new for m in again)
    assert second.templates() == first.templates()
    assert second.add("a brand new statement here").pattern_id not in ids  # ids are never reused


def test_memory_is_bounded_least_recently_seen_first_and_counted(tmp_path):
    miner = PatternMiner(max_templates=3, state_path=tmp_path / "s")
    a, b, c = _ids(miner, ["alpha started", "beta stopped", "gamma failed"])
    miner.add("alpha started")  # alpha is now the most recently seen
    d = miner.add("delta queued").pattern_id
    assert miner.stats["evicted"] == 1
    assert set(miner.templates()) == {a, c, d}  # beta went
    back = miner.add("beta stopped")
    assert back.new and back.pattern_id not in {a, b, c, d}  # no id is handed out twice
    miner.save()
    assert len(PatternMiner(max_templates=3, state_path=tmp_path / "s").templates()) == 3


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (b"\xff\xfe raw bytes", "bytes"),
        ("x" * 1_000_000, "truncated"),
        ("binary \x00\x01\x02\x7f payload", "control"),
        ("bad utf-8 \udcff\udcfe here", "invalid_utf8"),  # from errors="surrogateescape" decoding
        ("", "empty"),
        ("   \t ", "empty"),
    ],
)
def test_malformed_input_is_mined_counted_and_logged(message, kind, caplog, tmp_path):
    miner = PatternMiner(state_path=tmp_path / "state")
    with caplog.at_level("WARNING", logger="exporters.patterns"):
        match = miner.add(message)
        again = miner.add(message)
    assert match.pattern_id == again.pattern_id and len(match.template) <= 4_096
    assert miner.stats[kind] == 2
    assert len([r for r in caplog.records if "pattern miner" in r.getMessage()]) == 1  # not one per line
    miner.save()  # what was mined can be stored and read back
    assert PatternMiner(state_path=tmp_path / "state").templates() == miner.templates()


def test_an_unreadable_state_file_starts_empty_with_a_clear_log_line(tmp_path, caplog):
    state = tmp_path / "patterns.drain"
    state.write_bytes(b"eJzLSM3JyVcozy/KSQEAGgQEXQ==")  # an old drain3 snapshot, not ours
    with caplog.at_level("WARNING", logger="exporters.patterns"):
        miner = PatternMiner(state_path=state)
    assert miner.templates() == {} and miner.stats["state_unreadable"] == 1
    assert "unreadable" in caplog.text
    assert miner.add("worker started").new


def test_templates_never_hold_secrets():
    miner = PatternMiner()
    lines = ("login password=hunter2 ok", "call with Bearer abcDEF123456789 done", "mail bob@example.com")
    for line in lines:
        template = miner.add(line).template
        assert "hunter2" not in template and "abcDEF123456789" not in template and "bob@" not in template


@pytest.mark.parametrize(
    ("value", "level"),
    [(10, "debug"), (30, "info"), (40, "warning"), (50, "error"), (60, "critical"), ("WARN", "warning"),
     ("Fatal", "critical"), ("notice", "info"), ("bogus", "info")],
)
def test_level_names_and_pino_numbers(value, level):
    assert normalise_level(value) == level
