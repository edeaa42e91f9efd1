"""Compress raw log lines into patterns with a count, a level and one example line each.

Hundreds of lines around an alert are mostly the same few messages with different ids; the
logs exporter's drain3 miner (:mod:`exporters.patterns`, same masking as the log-pattern
metrics) groups them into templates so the evidence budget holds every distinct message once.

    for p in compress(lines):
        print(p.count, p.level, p.template, p.example)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from exporters.logline import parse_line
from exporters.patterns import PatternMiner

# A line printed without a level ("redis.exceptions.ResponseError: OOM command not allowed ...")
# is judged by its words; the first matching group is what the words say. A line that declares
# its level is taken at its word: "INFO processed batch=512 docs" is not an HTTP 5xx.
_LEVELS = (
    ("critical", re.compile(r"\b(?:FATAL|CRITICAL|PANIC|EMERG)\b|\bOOM\b|Killed process|Traceback", re.I)),
    (
        "error",
        re.compile(
            r"\bERR(?:OR)?\b|exception|\w(?:error|exception):|\bfail(?:ed|ure|ing|s)?\b|refused|denied|cannot"
            r"|can't|unable|\b5\d\d\b",
            re.I,
        ),
    ),
    ("warning", re.compile(r"\bWARN(?:ING)?\b|timed? ?out|retry|\b4\d\d\b", re.I)),
)

# A raw Python traceback is a header, indented frames and source lines, then the one line that
# says what happened ("ModuleNotFoundError: No module named 'x'"). Only that last line is
# evidence; it inherits the header's weight, since a traceback on stderr is usually a crash.
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):")

LEVEL_WEIGHT = {"critical": 3.0, "error": 2.0, "warning": 1.0, "info": 0.0, "debug": 0.0}


@dataclass(frozen=True)
class LogPattern:
    template: str
    count: int
    example: str
    level: str


# Signs that a line states its level: a level word near the start (Python logging, Go, uvicorn), a
# level key (JSON, logfmt), or an access-log status. parse_line says "info" both for a line that
# declares it and for one that says nothing, so the declaration is looked for here.
_DECLARED = re.compile(
    r"^.{0,64}?\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\b|[\"']?(?:level|levelname|severity"
    r"|lvl)[\"']?\s*[:=]",
)


def level_of(line: str) -> str:
    """The line's declared level; for a line without one, what its words say."""
    parsed = parse_line(line)
    if parsed.level != "info" or "status" in parsed.fields or _DECLARED.search(line):
        return parsed.level
    return next((name for name, pattern in _LEVELS if pattern.search(line)), parsed.level)


def compress(lines: Iterable[str], limit: int = 12) -> list[LogPattern]:
    """Patterns ordered by level, then count; each keeps its first example line."""
    miner = PatternMiner()
    found: dict[str, LogPattern] = {}
    in_traceback = False
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if _TRACEBACK.match(line):
            in_traceback = True
            continue
        if in_traceback and raw[:1].isspace():  # a frame or its source line
            continue
        match = miner.add(parse_line(line).message)
        level = "critical" if in_traceback else level_of(line)
        in_traceback = False
        if (old := found.get(match.pattern_id)) is not None:
            # Templates generalise as lines arrive; the first line stays the example.
            worst = level if LEVEL_WEIGHT[level] > LEVEL_WEIGHT[old.level] else old.level
            found[match.pattern_id] = LogPattern(match.template, old.count + 1, old.example, worst)
        else:
            found[match.pattern_id] = LogPattern(match.template, 1, line, level)
    patterns = list(found.values())
    patterns.sort(key=lambda p: (-LEVEL_WEIGHT[p.level], -p.count))
    return patterns[:limit]
