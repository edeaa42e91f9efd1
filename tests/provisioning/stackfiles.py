"""Read the stack's files the way their tools do, for the provisioning tests.

No Docker engine here, so compose's own variable interpolation (``${VAR:-default}``) is redone
below from the Compose specification's "Interpolation" section; the tests then validate the
result against the official JSON schema.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from llm_sre.stack import REPO

SCHEMAS = Path(__file__).parent / "schemas"
COMPOSE_FILE = REPO / "docker-compose.yml"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $VAR; $$ is a literal $.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def variables(text: str) -> dict[str, str | None]:
    """Variable name -> its inline default (None when it has none) for every reference in ``text``."""
    found: dict[str, str | None] = {}
    for match in _VARIABLE.finditer(text):
        name = match["braced"] or match["bare"]
        if name:
            default = match["arg"] if match["op"] in (":-", "-") else None
            found.setdefault(name, default)
    return found


def interpolate(text: str, env: dict[str, str]) -> str:
    """Substitute like ``docker compose config`` does with ``env`` as the environment."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value = env.get(name)
        op, arg = match["op"], match["arg"] or ""
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        if op in (":?", "?") and not value:
            raise KeyError(f"required variable {name} is not set: {arg}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


@cache
def compose() -> dict[str, Any]:
    """docker-compose.yml as compose sees it with no .env: every variable at its default."""
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), {}))


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((REPO / relative).read_text())


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host source, container target) of each bind mount of a service (short syntax)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


def container_path(service: str, host_relative: str) -> str | None:
    """Where ``host_relative`` (a repo path) appears inside ``service``'s container, if mounted."""
    wanted = (REPO / host_relative).resolve()
    for source, target in bind_mounts(compose()["services"][service]):
        source_path = (REPO / source).resolve()
        if wanted == source_path:
            return target
        if source_path in wanted.parents:
            return f"{target}/{wanted.relative_to(source_path)}"
    return None


def host_port(url: str) -> tuple[str, int]:
    """``http://host:port/path`` -> (host, port), the port defaulting by scheme."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
