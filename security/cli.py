"""``llm-sre security scan FILE``: credential-stuffing detections in an auth log."""

from __future__ import annotations

import argparse
import json
from typing import Any

from prometheus_client import CollectorRegistry

from clustering.events import open_input, unparseable
from security.detector import Detector
from security.events import AuthEvent, parse_auth
from security.settings import get_settings
from security.watch import CredentialWatch, thresholds


def register(subparsers: Any) -> None:
    sec = subparsers.add_parser(
        "security",
        help="credential-stuffing detection in auth logs",
        description="Security checks over log files.",
    )
    sub = sec.add_subparsers(dest="security_command", metavar="COMMAND", required=True)
    scan = sub.add_parser(
        "scan",
        help="detect credential stuffing in an auth log",
        description="Read JSON app logs, nginx/Apache access logs or sshd lines; report single-source, "
        "distributed, low-and-slow stuffing and likely compromises (success after a burst).",
    )
    scan.add_argument("file", help="log file, or - for stdin")
    scan.add_argument("--json", action="store_true", help="print one JSON document")
    scan.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="CIDR",
        help="source never treated as an attacker (repeatable; adds to LLM_SRE_AUTH_ALLOWLIST)",
    )
    scan.add_argument("--year", type=int, default=None, help="year of syslog timestamps (default: this year)")
    scan.set_defaults(func=_scan)


def _scan(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        detector = Detector(thresholds(settings), allow=[*settings.allowlist, *args.allow])
    except ValueError as exc:
        raise SystemExit(f"llm-sre security scan: bad allow-list entry: {exc}") from exc
    events: list[AuthEvent] = []
    lines = bad = 0
    with open_input(args.file) as source:
        for line in source:
            lines += 1
            if unparseable(line):
                bad += 1
                continue
            if (event := parse_auth(line, year=args.year)) is not None:
                events.append(event)
    watch = CredentialWatch(CollectorRegistry(), detector)
    found = [d for ev in sorted(events, key=lambda e: e.ts) for d in watch.feed(ev)]
    doc = {"lines": lines, "unparseable": bad, "authEvents": len(events), **watch.snapshot()}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"{lines} lines, {len(events)} auth events, {bad} unparseable, {len(found)} detections")
        for d in doc["detections"]:
            print(
                f"  [{d['severity']}] {d['shape']}: {d['key_kind']} {d['key']} - {d['accounts']} accounts, "
                f"{d['sources']} sources, {d['failures']} failures"
            )
    return 0
