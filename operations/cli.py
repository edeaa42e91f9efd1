"""``llm-sre checklist``, ``llm-sre docs check`` and ``llm-sre governance``.

Exit status: 0 all good, 1 a check FAILed / docs drifted / a rule was broken, 2 the input could not
be used (malformed file, not a Git repository) — one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from operations.yamlfile import ConfigError


def register(subparsers: Any) -> None:
    cl = subparsers.add_parser(
        "checklist", help="run the daily, weekly or deploy checklist (docs/operations.md)",
        description="Each check prints PASS/WARN/FAIL with the measured value, the threshold and what to do. "
        "Exit 1 when a check FAILs.",
    )
    cl.add_argument("name", choices=("daily", "weekly", "deploy"))
    cl.add_argument("--json", action="store_true", help="print the results as JSON")
    cl.add_argument("--file", type=Path, help="checklist file (default: LLM_SRE_CHECKLIST_FILE)")
    cl.add_argument("--textfile", type=Path, help="also write the metrics here (textfile collector)")
    cl.add_argument("--notify", action="store_true",
                    help="remember statuses and post checks that flipped to FAIL to SLACK_WEBHOOK_URL")
    cl.set_defaults(func=_checklist)

    docs = subparsers.add_parser("docs", help="check that generated docs match the code")
    docs_sub = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)
    check = docs_sub.add_parser(
        "check", help="OpenAPI, metric catalogue and environment variables against the committed docs",
        description="Compare the app's OpenAPI with docs/api/openapi.json, the metric catalogue with "
        "docs/metrics.md and the variables the settings classes read with the README/docs tables.",
    )
    check.add_argument("--fix", action="store_true", help="regenerate the generated files")
    check.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: .)")
    check.add_argument("--app", help="module:attribute of a FastAPI app (or a factory) instead of llm-sre's")
    check.add_argument("--openapi", type=Path, help="committed schema (default: docs/api/openapi.json)")
    check.add_argument("--settings", action="append", metavar="MODULE:CLASS",
                       help="settings class whose variables must be documented (repeatable)")
    check.add_argument("--suggest-docstrings", type=Path, metavar="FILE",
                       help="ask the local model for missing route docstrings; write them to FILE")
    check.set_defaults(func=_docs_check)

    gov = subparsers.add_parser("governance", help="commit message and branch name rules")
    gov_sub = gov.add_subparsers(dest="governance_command", metavar="ACTION", required=True)
    gcheck = gov_sub.add_parser("check", help="check a message, the current branch or a range of commits")
    gcheck.add_argument("--rules", type=Path, help="rules file (default: the shipped one)")
    gcheck.add_argument("--repo", type=Path, default=Path.cwd(), help="repository (default: .)")
    gcheck.add_argument("--message-file", type=Path, help="check this commit message (the commit-msg hook)")
    gcheck.add_argument("--range", dest="rev_range", help="check every commit in a range (origin/main..HEAD)")
    gcheck.add_argument("--branch", help="branch name to check (default: the current branch)")
    gcheck.add_argument("--textfile", type=Path, help="write llm_sre_governance_violations_total here")
    gcheck.add_argument("--slack", action="store_true", help="post violations to SLACK_WEBHOOK_URL")
    gcheck.set_defaults(func=_governance_check)
    hook = gov_sub.add_parser("install-hook", help="install the commit-msg hook in a repository")
    hook.add_argument("--repo", type=Path, default=Path.cwd())
    hook.add_argument("--rules", type=Path, help="rules file the hook uses (default: as `check`)")
    hook.add_argument("--force", action="store_true", help="replace an existing commit-msg hook")
    hook.set_defaults(func=_install_hook)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _checklist(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry, write_to_textfile

    from operations.checklist import exit_code, render, run_checklist, to_json
    from operations.publish import publish, record
    from operations.settings import OperationsSettings
    from operations.thresholds import load

    settings = OperationsSettings()
    try:
        config = load(args.file or settings.checklist_file)
    except ConfigError as exc:
        return _fail(str(exc))
    results = asyncio.run(run_checklist(args.name, settings, config))
    print(to_json(results) if args.json else render(results))
    registry = CollectorRegistry()
    if args.notify:
        asyncio.run(publish(results, settings, registry))
    if args.textfile:
        record(results, registry)
        write_to_textfile(str(args.textfile), registry)
    return exit_code(results)


def _docs_check(args: argparse.Namespace) -> int:
    from operations.docs_check import run

    try:
        return run(args)
    except ConfigError as exc:
        return _fail(str(exc))


def _governance_check(args: argparse.Namespace) -> int:
    from operations.governance_cli import check

    try:
        return check(args)
    except ConfigError as exc:
        return _fail(str(exc))


def _install_hook(args: argparse.Namespace) -> int:
    from operations.governance_cli import install_hook

    try:
        return install_hook(args)
    except ConfigError as exc:
        return _fail(str(exc))
