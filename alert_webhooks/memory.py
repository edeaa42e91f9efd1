"""Hand freed memory back to the OS after a burst of large notifications.

Python frees the objects of a processed 1 MB notification, but glibc keeps the freed pages in its
arenas (one per thread that allocated: the intake, the writer and reader threads, the worker's
pool) and rarely returns them: after 400 notifications with a 1 MB label each, the service stayed
at ~600 MiB with nothing alive (measured with ``bench/webhook_bounds.py --parts rss``; no object
of that size was reachable). ``malloc_trim(0)`` returns free pages from every arena. No library
wraps it, so it is called through ctypes; on a libc without it (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return free heap pages to the OS; True when the allocator could do it (glibc)."""
    if _TRIM is None:
        return False
    _TRIM(0)  # ctypes releases the GIL around the call
    return True
