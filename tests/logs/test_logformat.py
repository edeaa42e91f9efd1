"""Header formats: the user's (loghub style) or one detected from the first lines."""

from __future__ import annotations

import json

import pytest

from exporters.logformat import LogFormat, detect, parse
from exporters.logline import LogLine
from tests.logs.test_logs_cli import run_cli


@pytest.mark.parametrize(
    ("spec", "line", "content"),
    [
        ("<Date> <Time> <Level> <Component>: <Content>", "2026-11-26 10:00:01 INFO rag.api: took 5ms",
         "took 5ms"),
        # a field followed by a space may still hold one (the lazy pattern after the fast one)
        (r"\[<Time>\] <Program> - <Content>", "[10.30 16:49:06] chrome.exe *64 - a b: c", "a b: c"),
        (r"<Month> <Day> <Time> <Host> <Component>(\[<Pid>\])?: <Content>",
         "Dec 10 06:55:46 lab sshd[24200]: Invalid user bob", "Invalid user bob"),
        (r"<Time>\|<Component>\|<Pid>\|<Content>",
         "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579", "onStandStepChanged 3579"),
    ],
)
def test_content(spec, line, content):
    assert LogFormat(spec).message(line + "\n") == content


def test_a_line_without_the_header_keeps_its_text():
    fmt = LogFormat("<Date> <Time> <Level> <Component>: <Content>")
    assert fmt.content("Traceback (most recent call last):") is None
    assert fmt.message("Traceback (most recent call last):") == "Traceback (most recent call last):"


@pytest.mark.parametrize("spec", ["<Date> <Time> <Level>", r"<Date> (<Content>"])
def test_bad_formats_are_refused_clearly(spec):
    with pytest.raises(ValueError, match="log format"):
        LogFormat(spec)


@pytest.mark.parametrize(
    ("lines", "content"),
    [
        (["2015-10-18 18:01:47,978 INFO [main] org.a.B: Created app 1",
          "2015-10-18 18:01:48,963 WARN [IPC] org.a.C: x"],
         "Created app 1"),
        (["2026-11-26 10:00:01,123 INFO rag.api: retrieval done",
          "2026-11-26 10:00:02,456 ERROR rag.llm: failed"],
         "retrieval done"),
        (["Dec 10 06:55:46 lab sshd[24200]: Invalid user bob", "Dec 10 06:55:47 lab cron: job done"],
         "Invalid user bob"),
        (["[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", "[Sun Dec 04 04:47:45 2005] [error] x"],
         "workerEnv.init() ok"),
    ],
)
def test_detect_known_headers(lines, content):
    fmt = detect(lines)
    assert fmt is not None and fmt.message(lines[0]) == content


@pytest.mark.parametrize(
    "lines",
    [
        ['{"level": "error", "message": "x y z: w"}', '{"level": "info", "msg": "a b c: d"}'],
        ["plain text: nothing here", "another line"],
        ["", "  "],
        ["2026-11-26 10:00:01,123 INFO rag.api: ok", "free text", "more free text"],  # most lines must fit
    ],
)
def test_detect_leaves_other_lines_alone(lines):
    assert detect(lines) is None


def test_logs_mine_cuts_the_given_header(tmp_path):
    log = tmp_path / "proxy.log"
    log.write_text("[10.30 16:49:06] chrome.exe - a.b.c:443 open through proxy p.example.edu:5070 HTTPS\n"
                   "[10.30 16:49:07] chrome.exe *64 - d.e.f:80 open through proxy p.example.edu:5070 HTTPS\n")
    result = run_cli("logs", "mine", "--format", r"\[<Time>\] <Program> - <Content>", str(log))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["pattern_id"] == rows[1]["pattern_id"]
    assert rows[0]["template"] == "<HOST> open through proxy <HOST> HTTPS"


def test_logs_mine_refuses_a_bad_format():
    result = run_cli("logs", "mine", "--format", "<Date> <Level>", stdin="x\n")
    assert result.returncode != 0 and "no <Content> field" in result.stderr


def test_logs_mine_survives_malformed_input(tmp_path):
    log = tmp_path / "bad.log"
    log.write_bytes(b"\xff\xfe\x00\x01 binary\n\n" + b"A" * 1_000_000 + b"\nworker \xc3\x28 started\n   \n")
    result = run_cli("logs", "mine", str(log))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line_no"] for r in rows] == [1, 2, 3, 4, 5]
    assert len(rows[2]["template"]) <= 4_096
    assert "pattern miner:" in result.stderr  # said so, once per kind


def test_parse_takes_the_headers_message_and_level_else_the_lines_own():
    log4j = LogFormat("<Date> <Time> <Level> <Component>: <Content>")
    syslog = LogFormat(r"<Month> <Day> <Time> <Host> <Component>(\[<Pid>\])?: <Content>")
    assert parse("2026-11-26 10:00:01 WARN rag.api: slow 812ms\n", log4j) == LogLine("warning", "slow 812ms")
    assert parse("Dec 10 06:55:46 lab sshd[42]: error: bad key", syslog).level == "error"  # the message's
    assert parse('{"level": "error", "message": "boom"}', log4j) == LogLine("error", "boom")  # no header
    assert parse("plain words", None) == LogLine("info", "plain words")
