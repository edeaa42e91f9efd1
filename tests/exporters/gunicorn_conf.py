"""gunicorn settings for the multiprocess test, as docs/exporters.md tells users to write them."""

from __future__ import annotations

from typing import Any

from exporters.multiprocess import child_exit, prepare

__all__ = ["child_exit", "on_starting"]


def on_starting(server: Any) -> None:
    prepare()  # in the arbiter, before any worker imports prometheus-client
