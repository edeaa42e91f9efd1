"""The latest clustering snapshot on disk: written by the log exporter, read by the API and analysts.

One JSON file under the data directory, replaced atomically, so a reader never sees half a write
and the exporter and the webhook service can share it through a volume without a database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE = "clusters.json"


def save_json(data_dir: Path, name: str, data: dict[str, Any]) -> Path:
    """Write ``data_dir/name`` atomically (temp file, then rename)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    tmp = path.with_name(name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(tmp, path)
    return path


def load_json(data_dir: Path, name: str) -> dict[str, Any] | None:
    """The JSON object in ``data_dir/name``, or ``None`` when absent or unreadable."""
    try:
        data = json.loads((data_dir / name).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save_snapshot(data_dir: Path, snapshot: dict[str, Any]) -> Path:
    return save_json(data_dir, FILE, snapshot)


def load_snapshot(data_dir: Path) -> dict[str, Any] | None:
    """The snapshot, or ``None`` when clustering has not run (or the file is unreadable)."""
    return load_json(data_dir, FILE)
