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
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from grafana_client.client import GrafanaException

from llm_sre.grafana_token import Grafana, ensure_token
from llm_sre.processes import http_ok, wait_until
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


def run_grafana_token(args: argparse.Namespace) -> int:
    """Compose's ``grafana-token`` one-shot: see :mod:`llm_sre.grafana_token`.

    Exits 0 even when Grafana is unreachable or refuses the admin login: the webhook waits for
    this step, and an alert pipeline without annotations beats one that never starts.
    """
    grafana = Grafana(args.grafana_url, args.admin_user, args.admin_password_file.read_text().strip())
    preset = args.preset_file.read_text() if args.preset_file and args.preset_file.is_file() else ""
    health = f"{args.grafana_url}/api/health"
    try:
        if not preset.strip():
            wait_until(lambda: http_ok(health), args.wait, what=f"Grafana at {args.grafana_url}")
        source = ensure_token(grafana, args.token_file, preset)
    except (TimeoutError, GrafanaException) as exc:
        print(f"no Grafana token, incident annotations stay off: {exc}", file=sys.stderr)
        return 0
    print(f"Grafana token for the webhook: {source} ({args.token_file})")
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

    token_parser = sub.add_parser(
        "grafana-token",
        help="Write a Grafana service-account token for the webhook (compose one-shot).",
        description="Keep the preset token if one is given, else keep a token Grafana still accepts, "
        "else create service account llm-sre-webhook (Editor) and a new token.",
    )
    token_parser.add_argument(
        "--grafana-url", default="http://grafana:3000", help="default: http://grafana:3000"
    )
    token_parser.add_argument("--admin-user", default="admin", help="Grafana admin login (default: admin)")
    token_parser.add_argument("--admin-password-file", type=Path, required=True, metavar="FILE")
    token_parser.add_argument("--token-file", type=Path, required=True, metavar="FILE", help="where to write")
    token_parser.add_argument(
        "--preset-file", type=Path, metavar="FILE", help="a user-supplied token; used as-is when non-empty"
    )
    token_parser.add_argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for Grafana's /api/health (default: 120)",
    )
    token_parser.set_defaults(func=run_grafana_token)
