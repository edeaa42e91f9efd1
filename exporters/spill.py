"""Log records that could not go to Loki yet, on local disk: the third level of the fallback chain.

Layout under ``LOKI_SPILL_DIR``::

    <stream>/                    one directory per stream (its labels, readable + a short hash)
      labels.json
      w<start-ns>-<pid>/         one writer per process; flock'ed while the process lives
        000000000001.jsonl       size-rotated segments of JSON lines {"ts","line","lv","md"}
        000000000001.offset      bytes of that segment already delivered (absent: none)

Why hand-written: the spill needs exactly append, read-from-offset and delete-when-done on
JSON lines, with a priority-aware byte budget; a queue library (persist-queue, diskcache)
would hide the file format the replay tool and operators read.

Crash safety: a line is only ever appended whole, and readers skip a last line without its
newline (torn by a crash) and lines that are not valid JSON, counting them, never failing. A
new writer adopts the segments of writers whose lock is free (their process is gone), so a
restart drains what the previous run left; ``llm-sre logs replay`` does the same from outside.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from exporters.loki_push import Entry

Fsync = Literal["always", "segment", "never"]
SEGMENT_SUFFIX = ".jsonl"
OFFSET_SUFFIX = ".offset"
LOCK_NAME = ".lock"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def level_name(levelno: int) -> str:
    """The stdlib level a number falls in, lower case: bounded label values for custom levels too."""
    for bound, name in ((logging.INFO, "debug"), (logging.WARNING, "info"), (logging.ERROR, "warning"),
                        (logging.CRITICAL, "error")):
        if levelno < bound:
            return name
    return "critical"


def stream_name(labels: Mapping[str, str]) -> str:
    """A readable, file-system-safe and collision-free directory name for a label set."""
    canonical = json.dumps(dict(sorted(labels.items())), separators=(",", ":"))
    readable = _UNSAFE.sub("_", ",".join(f"{k}={v}" for k, v in sorted(labels.items())))[:80]
    return f"{readable}-{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Budget:
    """When disk space runs short, which records still get written.

    Below ``max_bytes`` everything is kept. DEBUG is refused from 80 % of it, INFO from 90 %,
    WARNING at 100 %; ERROR and CRITICAL only past ``hard_bytes``. A file system with less than
    ``min_free_bytes`` free counts as over budget, and with less than a quarter of it, as past the
    hard limit, so the spill never fills the disk the application needs.
    """

    max_bytes: int = 1 << 30
    hard_bytes: int = 0  # 0: max_bytes * 1.25
    min_free_bytes: int = 256 << 20

    def refuse(self, levelno: int, used: int, free: int) -> str | None:
        """None to write a record of ``levelno`` when ``used`` bytes would be spilled; else a reason."""
        if levelno >= logging.ERROR:
            if used > (self.hard_bytes or int(self.max_bytes * 1.25)):
                return "disk_hard_limit"
            return "disk_free_floor" if free < self.min_free_bytes // 4 else None
        if free < self.min_free_bytes:
            return "disk_free_floor"
        share = 0.8 if levelno < logging.INFO else 0.9 if levelno < logging.WARNING else 1.0
        return "disk_budget" if used > self.max_bytes * share else None


@dataclass(frozen=True)
class Position:
    """Where a read stopped: commit it once the entries before it are delivered."""

    segment: Path
    offset: int


@dataclass
class ReadStats:
    torn: int = 0
    corrupt: int = 0


class Segments:
    """One writer directory: append entries, read them back oldest first, forget delivered ones.

    Thread-safe: the handler's worker appends and reads, ``close`` may come from another thread.
    """

    def __init__(self, path: Path, *, segment_bytes: int = 8 << 20, fsync: Fsync = "segment") -> None:
        self.path = path
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.stats = ReadStats()
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._file_path: Path | None = None
        path.mkdir(parents=True, exist_ok=True)
        self._seq = max((int(p.stem) for p in self.segments()), default=0)
        self.bytes = sum(self._unread(p) for p in self.segments())

    def segments(self) -> list[Path]:
        return sorted(self.path.glob("*" + SEGMENT_SUFFIX))

    def _unread(self, segment: Path) -> int:
        with contextlib.suppress(OSError):
            return segment.stat().st_size - _offset(segment)
        return 0

    def append(self, lines: list[bytes]) -> int:
        """Write serialised entries (one JSON line each, newline included); returns bytes written."""
        with self._lock:
            written = 0
            for line in lines:
                handle = self._writer()
                handle.write(line)
                written += len(line)
                if handle.tell() >= self.segment_bytes:
                    self._rotate()
            if self._file is not None:
                self._file.flush()
                if self.fsync == "always":
                    os.fsync(self._file.fileno())
            self.bytes += written
            return written

    def _writer(self) -> IO[bytes]:
        if self._file is None:
            self._seq += 1
            self._file_path = self.path / f"{self._seq:012d}{SEGMENT_SUFFIX}"
            self._file = self._file_path.open("ab")
        return self._file

    def _rotate(self) -> None:
        if self._file is None:
            return
        self._file.flush()
        if self.fsync != "never":
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None

    def read(self, max_entries: int, max_bytes: int,
             after: Position | None = None) -> tuple[list[Entry], Position | None]:
        """Up to ``max_entries``/``max_bytes`` of the oldest undelivered entries and where they end.

        ``after``: continue from an earlier read's end instead of the committed offsets (a dry run).
        """
        with self._lock:
            if self._file is not None:
                self._file.flush()
            entries: list[Entry] = []
            size = 0
            position: Position | None = None
            for segment in self.segments():
                if after is not None and segment < after.segment:
                    continue
                offset = after.offset if after is not None and segment == after.segment else _offset(segment)
                for entry, end in self._lines(segment, offset):
                    position = Position(segment, end)
                    if entry is not None:
                        entries.append(entry)
                        size += len(entry.line)
                    if len(entries) >= max_entries or size >= max_bytes:
                        return entries, position
                if position is None or position.segment != segment:
                    position = Position(segment, _size(segment))  # an empty or all-torn segment
            return entries, position

    def _lines(self, segment: Path, offset: int) -> Iterator[tuple[Entry | None, int]]:
        try:
            handle = segment.open("rb")
        except FileNotFoundError:
            return
        with handle:
            handle.seek(offset)
            for raw in handle:
                offset += len(raw)
                if not raw.endswith(b"\n"):  # a crash cut this line: skip it
                    self.stats.torn += 1
                    yield None, offset
                    return
                try:
                    yield Entry.from_json(json.loads(raw)), offset
                except (ValueError, KeyError, TypeError):
                    self.stats.corrupt += 1
                    yield None, offset

    def commit(self, position: Position) -> None:
        """Everything before ``position`` was delivered: delete whole segments, record the offset."""
        with self._lock:
            for segment in self.segments():
                if segment > position.segment:
                    break
                done = segment < position.segment or (
                    position.offset >= _size(segment) and segment != self._file_path
                )
                before = self._unread(segment)
                if done:
                    segment.unlink(missing_ok=True)
                    segment.with_suffix(OFFSET_SUFFIX).unlink(missing_ok=True)
                    self.bytes -= before
                else:
                    _write_offset(segment, position.offset)
                    self.bytes -= before - self._unread(segment)
            self.bytes = max(0, self.bytes)

    def empty(self) -> bool:
        """True when every segment is delivered (re-reads the files, so the count cannot drift)."""
        with self._lock:
            self.bytes = sum(max(0, self._unread(p)) for p in self.segments())
            return self.bytes == 0

    def close(self) -> None:
        with self._lock:
            self._rotate()

    def release(self) -> None:
        """Close the open segment's handle only (appends are flushed as they happen)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _size(segment: Path) -> int:
    try:
        return segment.stat().st_size
    except FileNotFoundError:
        return 0


def _offset(segment: Path) -> int:
    try:
        return int(segment.with_suffix(OFFSET_SUFFIX).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_offset(segment: Path, offset: int) -> None:
    tmp = segment.with_suffix(OFFSET_SUFFIX + ".tmp")
    tmp.write_text(str(offset))
    os.replace(tmp, segment.with_suffix(OFFSET_SUFFIX))


def try_lock(directory: Path) -> IO[bytes] | None:
    """An exclusive lock on ``directory`` (held while the returned file stays open), or None."""
    handle = (directory / LOCK_NAME).open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def writer_dirs(stream_dir: Path) -> list[Path]:
    """A stream's writer directories, oldest writer first (names start with the start time)."""
    return sorted((p for p in stream_dir.glob("w*") if p.is_dir()), key=lambda p: p.name)


class SpillStore:
    """This process's spill for one stream: budgeted appends, oldest-first reads, orphan adoption.

    >>> store = SpillStore(Path("data/spill"), {"service": "api", "env": "prod"})
    >>> refused = store.append(entries)          # [(entry, reason)] refused by the budget
    >>> batch, position = store.read(1000, 1 << 20); ...; store.commit(position)
    """

    def __init__(self, root: Path, labels: Mapping[str, str], *, budget: Budget | None = None,
                 segment_bytes: int = 8 << 20, fsync: Fsync = "segment") -> None:
        self.budget = budget or Budget()
        self.stream_dir = root / stream_name(labels)
        self.stream_dir.mkdir(parents=True, exist_ok=True)
        (self.stream_dir / "labels.json").write_text(json.dumps(dict(labels)))
        path = self.stream_dir / f"w{time.time_ns():020d}-{os.getpid()}"
        path.mkdir()
        self._lock_file = try_lock(path)
        self.adopted = self._adopt(path)
        self.segments = Segments(path, segment_bytes=segment_bytes, fsync=fsync)

    def _adopt(self, own: Path) -> int:
        """Move segments of dead writers of this stream in front of ours; returns segments adopted."""
        seq = 0
        for other in writer_dirs(self.stream_dir):
            if other == own:
                continue
            lock = try_lock(other)
            if lock is None:
                continue  # a live process: its own handler drains it
            with lock:
                for segment in sorted(other.glob("*" + SEGMENT_SUFFIX)):
                    seq += 1
                    target = own / f"{seq:012d}{SEGMENT_SUFFIX}"
                    if segment.with_suffix(OFFSET_SUFFIX).exists():
                        os.replace(segment.with_suffix(OFFSET_SUFFIX), target.with_suffix(OFFSET_SUFFIX))
                    os.replace(segment, target)
            shutil.rmtree(other, ignore_errors=True)
        return seq

    @property
    def bytes(self) -> int:
        return self.segments.bytes

    def append(self, entries: list[Entry]) -> list[tuple[Entry, str]]:
        """Write what the budget admits, in order; return the refused entries with their reason."""
        try:
            free = shutil.disk_usage(self.segments.path).free
        except OSError:
            free = 0
        used = self.segments.bytes
        lines: list[bytes] = []
        refused: list[tuple[Entry, str]] = []
        for entry in entries:
            line = (json.dumps(entry.to_json(), ensure_ascii=False) + "\n").encode()
            reason = self.budget.refuse(entry.level, used + len(line), free - len(line))
            if reason is None:
                lines.append(line)
                used += len(line)
                free -= len(line)
            else:
                refused.append((entry, reason))
        if lines:
            self.segments.append(lines)
        return refused

    def read(self, max_entries: int, max_bytes: int) -> tuple[list[Entry], Position | None]:
        return self.segments.read(max_entries, max_bytes)

    def commit(self, position: Position) -> None:
        self.segments.commit(position)

    def empty(self) -> bool:
        return self.segments.empty()

    def detach(self) -> None:
        """In a forked child: let go of the parent's files without touching their contents."""
        self.segments.release()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        """Close the open segment; an empty writer directory is removed, not left for adoption."""
        self.segments.close()
        if self.segments.empty():
            shutil.rmtree(self.segments.path, ignore_errors=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
