"""Metrics from several worker processes (gunicorn / ``uvicorn --workers``), served as one.

prometheus-client's multiprocess mode keeps each worker's values in files under
``PROMETHEUS_MULTIPROC_DIR`` and merges them when ``/metrics`` is scraped, whichever worker
answers. Its rules (docs/exporters.md, "Several worker processes"): the variable must be set
before the workers import prometheus-client; the folder must be emptied when the server starts
(stale files from a previous run would be summed in); custom collectors and exemplars do not
work; gauges merge as declared in the catalogue (``multiprocess_mode``).

In the app::

    from exporters.multiprocess import metrics_app
    app.mount("/metrics", metrics_app())           # FastAPI / Starlette

In the server process, before the workers start (gunicorn ``on_starting``)::

    from exporters.multiprocess import prepare, child_exit
    prepare()                                         # wipe PROMETHEUS_MULTIPROC_DIR
    # gunicorn.conf.py: child_exit = exporters.multiprocess.child_exit
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app, multiprocess

from exporters.settings import get_settings


def _folder(path: Path | None) -> Path:
    folder = path or get_settings().multiproc_dir
    if folder is None:
        raise RuntimeError("multiprocess mode needs PROMETHEUS_MULTIPROC_DIR to be set")
    return folder


def prepare(path: Path | None = None) -> Path:
    """Empty (or create) the multiprocess folder; call once, before any worker starts."""
    folder = _folder(path)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def registry(path: Path | None = None) -> CollectorRegistry:
    """A registry that merges every worker's files; build it per scrape or once, both work."""
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged, path=str(_folder(path)))
    return merged


def metrics_app(path: Path | None = None) -> Any:
    """An ASGI app serving the merged metrics of all workers."""
    return make_asgi_app(registry(path))


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: drop a dead worker's live gauges (``live*`` multiprocess modes)."""
    multiprocess.mark_process_dead(worker.pid)
