"""``llm-sre ask "question"``: the orchestrator from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from analysts.ask import ask
from analysts.settings import get_settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "ask",
        help="ask the SRE, security or efficiency analyst a question",
        description="Route a question to the most relevant analyst and answer it from Prometheus, the "
        'clustering snapshot and security detections: {"analyst", "why", "answer", "evidence"}.',
    )
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--route-only", action="store_true", help="only say which analyst and why")
    p.set_defaults(func=_ask)


def _ask(args: argparse.Namespace) -> int:
    settings = get_settings()
    if len(args.question) > settings.ask_max_chars:
        raise SystemExit(f"llm-sre ask: question longer than {settings.ask_max_chars} characters")
    result = asyncio.run(ask(settings, args.question, route_only=args.route_only))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"{result['analyst']} analyst ({result['why']})")
    if not args.route_only:
        print(result["answer"])
        for e in result["evidence"]:
            print(f"  [{e['id']}] {e['text']}")
    return 0
