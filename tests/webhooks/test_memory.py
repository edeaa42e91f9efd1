"""Freed memory goes back to the OS (glibc keeps freed arena pages otherwise)."""

from __future__ import annotations

import threading
from pathlib import Path

from alert_webhooks.memory import release_free_memory


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def test_memory_freed_by_a_thread_is_returned() -> None:
    survivors: list[bytearray] = []

    def churn() -> None:
        # Mid-sized blocks from this thread's arena, every 16th kept: the heap cannot shrink from its
        # top, so without a trim the freed pages between the survivors stay in the process.
        blocks = [bytearray(64 * 1024) for _ in range(3000)]
        for block in blocks:
            block[::4096] = b"x" * len(block[::4096])  # touch every page
        survivors.extend(blocks[::16])

    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    before = rss_mib()
    assert release_free_memory()
    after = rss_mib()
    assert before - after > 100, (before, after)  # ~175 MiB were freed, most must leave the process
    assert len(survivors) == 188
