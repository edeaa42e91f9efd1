"""``llm-sre brief`` (a briefing for a period, now or as of a past moment) and ``llm-sre brief
backtest`` (how early the engine would have flagged the alerts of a past window).

    llm-sre brief --since 24h --json
    llm-sre brief --at 2026-11-30T08:00:00Z --no-llm
    llm-sre brief backtest --since 7d

Exit status: 0 for a complete briefing, 1 when a section is missing (the briefing says which and
why), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> float:
    """``90m``, ``24h``, ``7d``: seconds; an argparse type, so bad input is a clear usage error."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h or 7d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def moment(text: str) -> float:
    """RFC 3339 (``2026-11-30T08:00:00Z``) or Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not RFC 3339 time or Unix seconds") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +09:00)")
    return parsed.timestamp()


def register(subparsers: Any) -> None:
    brief = subparsers.add_parser(
        "brief",
        help="briefing for a period: top issues, trends, early warnings, efficiency advice",
        description="Gather incidents (the webhook's store) and metrics (PROMETHEUS_URL) for a period and "
        "print the briefing; every item carries its evidence. docs/briefings.md explains the method.",
    )
    brief.add_argument("--since", type=duration, default=86400.0, metavar="DURATION",
                       help="period length (default 24h)")  # fmt: skip
    brief.add_argument("--at", type=moment, default=None, metavar="TIME",
                       help="brief as of this moment (RFC 3339 or Unix seconds; default now)")  # fmt: skip
    brief.add_argument("--json", action="store_true", help="print the JSON document instead of Markdown")
    brief.add_argument("--no-llm", action="store_true", help="deterministic summary only")
    brief.add_argument("--prometheus", metavar="URL", help="Prometheus base URL (default PROMETHEUS_URL)")
    brief.set_defaults(func=_brief)
    sub = brief.add_subparsers(dest="brief_command", metavar="SUBCOMMAND")
    backtest = sub.add_parser(
        "backtest",
        help="replay the engine hour by hour over past data and score it against the alerts that fired",
        description="For every alert that fired in the window: was it flagged before, by what, how early; "
        "plus the early warnings that never came true. Alerts come from ALERTS, or with --rules from "
        "replaying those rule files (for backfilled data no rule ever ran on).",
    )
    backtest.add_argument("--since", type=duration, default=7 * 86400.0, metavar="DURATION",
                          help="window length (default 7d)")  # fmt: skip
    backtest.add_argument(
        "--until", type=moment, default=None, metavar="TIME", help="window end (default now)"
    )
    backtest.add_argument("--rules", type=Path, nargs="+", metavar="FILE", help="replay these alerting rules")
    backtest.add_argument("--json", action="store_true", help="print JSON")
    backtest.add_argument("--prometheus", metavar="URL", help="Prometheus base URL (default PROMETHEUS_URL)")
    backtest.set_defaults(func=_backtest)


def _prometheus(args: argparse.Namespace) -> Any:
    from alert_webhooks.settings import Settings
    from briefing.prometheus import Prometheus
    from briefing.settings import BriefingSettings

    url = args.prometheus or Settings().prometheus_url
    return Prometheus(url, timeout=BriefingSettings().deadline_seconds) if url else None


def _store(settings: Any) -> Any:
    """The webhook's store, if there is one: a briefing never creates an empty database."""
    from alert_webhooks.service import STORE_FILE, build_store

    if settings.store_backend == "sqlite" and not (settings.data_dir / STORE_FILE).exists():
        return None
    return build_store(settings)


def _brief(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from alert_webhooks.settings import Settings
    from briefing.schedule import briefer
    from briefing.settings import BriefingSettings
    from exporters.catalogue import metrics

    settings, bs = Settings(), BriefingSettings()
    store = _store(settings)
    b = briefer(settings, bs, store, metrics(CollectorRegistry()), use_llm=not args.no_llm)
    b.prom = _prometheus(args)
    try:
        result = asyncio.run(b.brief(args.at or time.time(), args.since))
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n" if args.json else result.text)
    return 1 if result.missing else 0


def _backtest(args: argparse.Namespace) -> int:
    from briefing.backtest import backtest

    prom = _prometheus(args)
    if prom is None:
        sys.stderr.write("llm-sre brief backtest: no Prometheus (set PROMETHEUS_URL or --prometheus)\n")
        return 2
    end = args.until or time.time()
    for path in args.rules or ():
        if not path.is_file():
            sys.stderr.write(f"llm-sre brief backtest: no such rule file: {path}\n")
            return 2
    from briefing.prometheus import PrometheusError

    try:
        report = asyncio.run(backtest(prom, end - args.since, end, rule_files=args.rules))
    except PrometheusError as exc:
        sys.stderr.write(f"llm-sre brief backtest: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n" if args.json else report.text())
    return 0
