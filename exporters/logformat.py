"""Header formats: cut the per-line header (timestamp, pid, host, level) off raw lines.

A header is the most variable part of a line and says nothing about which statement printed it;
mining the whole line splits one statement by host or component. The format is written the way
the loghub benchmark and logparser write it, so a format from their tables works as is:
``<Date> <Time> <Level> <Component>: <Content>`` - each ``<Field>`` matches lazily (without
whitespace when a space follows it, see :class:`LogFormat`), a run of spaces matches any
whitespace, the rest is a regular expression (``\\[<Pid>\\]``, ``(\\[<PID>\\])?``) and
``<Content>`` is the message that gets mined.

When nobody gives a format, :func:`detect` tries the usual header shapes on the first lines of a
stream and keeps the one that fits nearly all of them; lines that do not fit keep their whole text.

    >>> LogFormat("<Date> <Time> <Level> <Component>: <Content>").content(
    ...     "2026-11-26 10:00:01 INFO rag.api: retrieval took 812ms")
    'retrieval took 812ms'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from exporters.logline import LogLine, normalise_level, parse_line

# Adapted from logparser's generate_logformat_regex (Apache-2.0, github.com/logpai/logparser).
_FIELD = re.compile(r"(<[^<>]+>)")
_LAZY_FIELDS = 3


class LogFormat:
    """A compiled header format whose ``<Content>`` field is the message."""

    def __init__(self, spec: str) -> None:
        parts = _FIELD.split(spec)
        if "<Content>" not in parts:
            raise ValueError(f"log format {spec!r} has no <Content> field")
        try:
            self.regex = re.compile(self._regex(parts, fast=True))
            # logparser's fields are all lazy (.*?): with k of them a line that does not fit
            # costs ~n^k steps (a 300-character line and 5 fields never returns). So a field
            # followed by a space holds no whitespace, and only formats with at most
            # _LAZY_FIELDS fields get a lazy second try where one may ("chrome.exe *64 - …").
            # Where both match they split a line the same way.
            lazy = self._regex(parts, fast=False)
            self._lazy = re.compile(lazy) if lazy.count(".*?") <= _LAZY_FIELDS else None
        except re.error as exc:
            raise ValueError(f"log format {spec!r} is not a valid pattern: {exc}") from exc
        self.spec = spec

    @staticmethod
    def _regex(parts: list[str], *, fast: bool) -> str:
        return "^" + "".join(
            re.sub(" +", r"\\s+", part) if i % 2 == 0
            else f"(?P<{part[1:-1]}>.*)" if i == len(parts) - 2 and not parts[i + 1]  # the rest
            else f"(?P<{part[1:-1]}>\\S*)" if fast and parts[i + 1][:1].isspace()
            else f"(?P<{part[1:-1]}>.*?)"
            for i, part in enumerate(parts)
        ) + "$"

    def match(self, line: str) -> re.Match[str] | None:
        m = self.regex.match(line)
        return m if m is not None or self._lazy is None else self._lazy.match(line)

    def content(self, line: str) -> str | None:
        """The message of ``line``, or None when the line does not have this header."""
        m = self.match(line)
        return m.group("Content") if m else None

    def message(self, line: str) -> str:
        """The message of ``line``, or the whole line when it does not have this header."""
        line = line.rstrip("\r\n")
        content = self.content(line)
        return line if content is None else content

    def __repr__(self) -> str:
        return f"LogFormat({self.spec!r})"


# Common header shapes, most specific first; detection picks the first that fits the sample.
KNOWN_FORMATS = tuple(LogFormat(spec) for spec in (
    r"<Date> <Time> <Level> \[<Thread>\] <Component>: <Content>",  # log4j with thread
    r"<Date> <Time> - <Level>  \[<Thread>\] - <Content>",  # log4j "%d - %-5p [%t] - %m"
    r"<Date> <Time> <Pid> <Level> <Component>: <Content>",
    r"<Date> <Time> <Level> <Component>: <Content>",  # log4j / Python logging
    r"<Month> <Day> <Time> <Host> <Component>(\[<Pid>\])?: <Content>",  # syslog (RFC 3164)
    r"\[<Time>\] \[<Level>\] <Content>",  # Apache error log
))
_DETECT_SHARE = 0.9
DETECT_LINES = 50  # a stream's first lines that decide its header format
# What a detected header's fields must look like, so a loose shape does not fit any line.
_FIELD_SHAPES = {
    "Level": re.compile(r"(?i)trace|debug|info|notice|warn|warning|error|err|critical|crit|fatal|severe"),
    "Time": re.compile(r".*\d{1,2}:\d{2}.*|\d{6}"),
    "Date": re.compile(r"\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{6}"),
    "Month": re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"),
    "Day": re.compile(r"\d{1,2}"),
    "Host": re.compile(r"\S+"),
    "Component": re.compile(r"\S+"),
}


def _fits(fmt: LogFormat, line: str) -> bool:
    """The header matches and its fields look like what they are named."""
    m = fmt.match(line)
    return m is not None and all(
        shape.fullmatch(m.group(name) or "") is not None
        for name, shape in _FIELD_SHAPES.items() if name in fmt.regex.groupindex
    )


def parse(line: str, fmt: LogFormat | None) -> LogLine:
    """``line`` split by ``fmt``'s header where it has it - its message, and the header's level
    or else the message's own (:func:`exporters.logline.parse_line`) - otherwise parsed on its own."""
    m = fmt.match(line.rstrip("\r\n")) if fmt is not None else None
    if m is None:
        return parse_line(line)
    content = m.group("Content")
    if "Level" in m.re.groupindex:
        return LogLine(normalise_level(m.group("Level")), content)
    own = parse_line(content)
    return LogLine(own.level, content, own.fields)


def detect(sample: Iterable[str]) -> LogFormat | None:
    """The first known format that at least 90% of the sample's non-empty lines fit, if any."""
    lines = [line.rstrip("\r\n") for line in sample if line.strip()]
    if not lines:
        return None
    for fmt in KNOWN_FORMATS:
        if sum(_fits(fmt, line) for line in lines) >= _DETECT_SHARE * len(lines):
            return fmt
    return None
