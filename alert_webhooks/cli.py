"""``llm-sre serve`` (the webhook service) and ``llm-sre replay`` (re-drive dead letters or re-process an
archived notification). Replay works on the store directly, so it runs beside a live service: the
service's worker picks the re-queued jobs up on its next poll.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from alert_webhooks.settings import Settings


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the Alertmanager webhook service",
        description="Run the webhook: POST /alertmanager, /api/v1/incidents, /metrics, /healthz, /readyz. "
        "Configured by environment variables (docs/webhook.md).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    serve.set_defaults(func=_serve)

    replay = subparsers.add_parser(
        "replay",
        help="re-drive dead-lettered deliveries or re-process an archived notification",
        description="Without options: list dead letters. --dead-letters re-queues all of them (or those of "
        "--incident); --notification N folds archived notification N in again and re-delivers its incident.",
    )
    replay.add_argument("--dead-letters", action="store_true", help="re-queue dead-lettered incidents")
    replay.add_argument(
        "--incident", action="append", default=None, metavar="ID", help="only this incident (repeatable)"
    )
    replay.add_argument("--notification", type=int, metavar="N", help="re-process archived notification N")
    replay.set_defaults(func=_replay)


def _serve(args: argparse.Namespace) -> int:
    import logging
    import sys

    import uvicorn

    from alert_webhooks.app import create_app
    from alert_webhooks.service import build_service
    from exporters.loki import setup_logging
    from exporters.settings import ExporterSettings

    # Masked JSON logs (and Loki when LOKI_URL is set) for our loggers and uvicorn's alike: uvicorn
    # gets no config of its own, so its records reach the root handlers. Access lines only at debug:
    # each costs the intake, and /metrics counts the requests anyway.
    setup_logging(
        ExporterSettings(LLM_SRE_SERVICE="llm-sre-webhook"), level=getattr(logging, args.log_level.upper())
    )
    # The store's threads hold the GIL while they build pages; the event loop takes it back after
    # this long instead of the default 5 ms, which bounds what a burst of readers adds to an ack.
    sys.setswitchinterval(0.001)
    settings = Settings()
    log = logging.getLogger("alert_webhooks")
    if settings.webhook_token is None:
        log.warning(
            "LLM_SRE_WEBHOOK_TOKEN is not set: %s",
            "LLM_SRE_INSECURE=1 leaves every API open to anyone who can reach this port"
            if settings.insecure
            else "POST /alertmanager and the write APIs refuse every request (403) until it is set",
        )
    try:
        service = build_service(settings)  # here, not in the lifespan: a bad data dir is one line
    except (OSError, RuntimeError) as exc:
        print(f"llm-sre serve: {exc}", file=sys.stderr)
        return 2
    if service.pages is not None:
        service.pages.warm_up()  # in serve only: apps built by tests spawn a helper on first use
    uvicorn.run(
        create_app(settings, service=service),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=args.log_level == "debug",
        timeout_graceful_shutdown=10,
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    import sys
    from collections import Counter

    from alert_webhooks.service import build_store

    try:
        store = build_store(Settings())
    except (OSError, RuntimeError) as exc:
        print(f"llm-sre replay: {exc}", file=sys.stderr)
        return 2
    try:
        if args.notification is not None:
            result = store.reprocess(args.notification, time.time())
            print(f"re-processed notification {args.notification}: incident {result.incident_id} re-queued")
        elif args.dead_letters:
            count = store.replay_dead_letters(args.incident, time.time())
            print(f"re-queued {count} dead-lettered incident(s)")
        else:
            letters = store.dead_letters()
            for letter in letters:
                print(f"{letter.incident_id}\t{letter.cause}\tattempts={letter.attempts}\t{letter.error}")
            counts = Counter(letter.cause for letter in letters)
            by_cause = ", ".join(f"{cause}={n}" for cause, n in sorted(counts.items()))
            print(
                f"{len(letters)} dead letter(s){f' ({by_cause})' if by_cause else ''}; "
                "re-drive with: llm-sre replay --dead-letters"
            )
    except KeyError as exc:
        print(f"error: {exc.args[0]}")
        return 1
    finally:
        store.close()
    return 0
