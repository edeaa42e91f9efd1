"""Follow every JSONL file in a folder: survive rotation and truncation, never read a line twice.

A file is identified by a fingerprint of its first line, not by its path or inode:

* rename rotation (``app.jsonl`` → ``app.jsonl.1``, new ``app.jsonl``): the renamed file keeps
  its fingerprint and offset, so its unread tail is still read; the new file starts at 0;
* copytruncate rotation: the copy has the same first line, hence the same offset, so it is not
  read again from the start (inode tracking would double-count the whole file here);
* truncation in place: the file is empty, then gets a new first line, hence a new fingerprint.

Offsets are persisted (atomically) *before* the lines are handed over, so a crash can lose at
most one batch but never count a line twice — Prometheus counters survive nothing a crash kills
anyway. Only complete lines (ending in ``\\n``) are consumed. Fingerprints are the same idea as
Filebeat's ``fingerprint`` file identity; no Python library does this, hence this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Rotated siblings we still read; compressed ones are skipped (already read before compression).
PATTERNS = ("*.jsonl", "*.jsonl.*")
COMPRESSED = (".gz", ".zst", ".bz2", ".xz", ".tmp")
FINGERPRINT_BYTES = 4096


@dataclass(frozen=True)
class Batch:
    path: Path
    lines: list[bytes]
    dropped: int  # lines longer than the chunk size, skipped unread


class JsonlTailer:
    """Reads new complete lines from ``folder``; state lives in the JSON file ``state_path``.

    >>> tailer = JsonlTailer(Path("data/traces"), Path("data/exporter/trace-offsets.json"))
    >>> for batch in tailer.read(): handle(batch.lines)
    """

    def __init__(self, folder: Path, state_path: Path, chunk_bytes: int = 4 << 20) -> None:
        self.folder = folder
        self.state_path = state_path
        self.chunk_bytes = chunk_bytes
        self.offsets: dict[str, int] = self._load()

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.state_path.read_text())
            return {str(k): int(v) for k, v in data.get("offsets", {}).items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 1, "offsets": self.offsets}, sort_keys=True))
        os.replace(tmp, self.state_path)

    def files(self) -> list[Path]:
        found = {p for pattern in PATTERNS for p in self.folder.glob(pattern) if p.is_file()}
        return sorted(p for p in found if not p.name.endswith(COMPRESSED))

    @staticmethod
    def fingerprint(handle: BinaryIO) -> str | None:
        """Hash of the first line, or None while the first line is still incomplete."""
        handle.seek(0)
        head = handle.read(FINGERPRINT_BYTES)
        end = head.find(b"\n")
        if end < 0 and len(head) < FINGERPRINT_BYTES:
            return None
        first = head if end < 0 else head[: end + 1]
        return hashlib.sha256(first).hexdigest()[:20]

    def read(self) -> Iterator[Batch]:
        """Yield each file's new lines; the offset is saved before each batch is yielded."""
        seen: set[str] = set()
        for path in self.files():
            with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
                fp = self.fingerprint(handle)
                if fp is None or fp in seen:
                    continue  # empty/partial first line, or the same file under two names
                seen.add(fp)
                while (batch := self._read_new(path, handle, fp)) is not None:
                    self._save()
                    yield batch
        stale = set(self.offsets) - seen
        if stale:  # files gone for good: forget them so the state file stays small
            for fp in stale:
                del self.offsets[fp]
            self._save()

    def _read_new(self, path: Path, handle: BinaryIO, fp: str) -> Batch | None:
        size = os.fstat(handle.fileno()).st_size
        offset = self.offsets.get(fp, 0)
        if size < offset:  # truncated and rewritten with an identical first line
            offset = 0
        if size == offset:
            self.offsets[fp] = offset
            return None
        handle.seek(offset)
        chunk = handle.read(self.chunk_bytes)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) < self.chunk_bytes:
                return None  # a line still being written
            # A single line longer than the chunk: skip it rather than stall the file forever.
            self.offsets[fp] = offset + len(chunk)
            return Batch(path, [], 1)
        self.offsets[fp] = offset + end + 1
        return Batch(path, chunk[:end].split(b"\n"), 0)
