"""``llm-sre compose init``: prepare a checkout for ``docker compose up``.

docker compose refuses to start when a secret file is missing, and a user should never have to
invent a webhook token by hand. ``init`` creates what the compose file expects and the repository
must not contain: ``.env`` (from ``.env.example``), the secret files, and the trace directory.
Existing files are never overwritten, so running it twice is safe.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

# Secret file -> whether init fills it with a random value (True) or leaves it empty, which
# switches that optional integration off (the image's entrypoint treats empty as unset).
SECRETS: dict[str, bool] = {
    "webhook_token": True,
    "grafana_admin_password": True,
    "grafana_token": False,
    "slack_bot_token": False,
    "slack_webhook_url": False,
}


def init(root: Path, token: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> list[Path]:
    """Create the missing files under ``root``; return the paths created."""
    created: list[Path] = []
    env = root / ".env"
    if not env.exists():
        shutil.copyfile(root / ".env.example", env)
        created.append(env)

    secret_dir = root / "secrets"
    secret_dir.mkdir(exist_ok=True)
    # The directory keeps other host users out; the files themselves must stay world-readable
    # because compose bind-mounts them as-is (it ignores uid/mode outside Swarm) and Grafana,
    # Alertmanager and llm-sre each run as their own non-root user.
    secret_dir.chmod(0o700)
    for name, generated in SECRETS.items():
        path = secret_dir / name
        if path.exists():
            continue
        path.write_text(token() if generated else "")
        path.chmod(0o644)
        created.append(path)

    traces = root / "data" / "traces"
    if not traces.exists():
        traces.mkdir(parents=True)
        created.append(traces)
    return created


def run_init(args: argparse.Namespace) -> int:
    created = init(args.root)
    for path in created:
        print(f"created {path}")
    if not created:
        print("nothing to do: .env, secrets/ and data/traces already exist")
    print("next: docker compose up -d   (Grafana: http://localhost:3000, user admin, "
          "password in secrets/grafana_admin_password)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("compose", help="Prepare the docker compose stack.")
    sub = parser.add_subparsers(dest="compose_command", metavar="ACTION", required=True)
    init_parser = sub.add_parser(
        "init",
        help="Create .env, secret files and data/traces for docker compose.",
        description="Create .env (from .env.example), secrets/* (random webhook token and Grafana "
                    "admin password, empty optional tokens) and data/traces. Never overwrites.",
    )
    init_parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                             help="checkout containing docker-compose.yml (default: .)")
    init_parser.set_defaults(func=run_init)
