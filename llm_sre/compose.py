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
import threading
from collections.abc import Callable
from pathlib import Path

from llm_sre.traffic import SyntheticTraffic

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
    print(
        "next: docker compose up -d   (Grafana: http://localhost:3000, user admin, "
        "password in secrets/grafana_admin_password)"
    )
    return 0


def run_demo_app(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve synthetic LLM traffic as the ``app`` the ``llm-app`` scrape job expects, until stopped.

    Used by compose's ``demo`` profile so a fresh stack has an app to scrape (instead of a
    TargetDown alert) and the LLM and SLO dashboards have data before your own app is connected.
    """
    traffic = SyntheticTraffic(calls_per_second=args.calls_per_second)
    traffic.failure_ratio = args.failure_ratio
    traffic.start(args.host, args.port)
    print(
        f"synthetic LLM app on http://{args.host}:{traffic.port}/metrics "
        f"({args.calls_per_second:g} calls/s, failure ratio {args.failure_ratio:g})",
        flush=True,
    )
    try:
        (stop or threading.Event()).wait()  # SIGTERM (docker stop) ends the process
    finally:
        traffic.stop()
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
    init_parser.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="checkout containing docker-compose.yml (default: .)",
    )
    init_parser.set_defaults(func=run_init)

    app_parser = sub.add_parser(
        "demo-app",
        help="Serve a synthetic LLM app's /metrics (compose profile `demo`).",
        description="Record synthetic LLM calls through the exporters instrumentation and serve them "
        "on /metrics, standing in for your app until it is connected.",
    )
    app_parser.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1)")
    app_parser.add_argument("--port", type=int, default=8000, help="listen port (default: 8000)")
    app_parser.add_argument("--calls-per-second", type=float, default=5.0, help="call rate (default: 5)")
    app_parser.add_argument(
        "--failure-ratio",
        type=float,
        default=0.02,
        help="share of calls that fail with ModelTimeout (default: 0.02)",
    )
    app_parser.set_defaults(func=run_demo_app)
