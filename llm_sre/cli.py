"""The ``llm-sre`` console command.

Each feature area owns its subcommands in its own module, which exposes
``register(subparsers)``; this file only lists those modules, so adding a command never
means editing another area's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that contribute subcommands, in --help order.
COMMAND_MODULES: tuple[str, ...] = (
    "llm_sre.stack",
    "llm_sre.demo",
    "llm_sre.rules_cli",
    "llm_sre.dashboards.cli",
    "llm_sre.compose",
    "alert_webhooks.cli",
    "exporters.cli",
    "exporters.logs_cli",
    "alert_webhooks.analysis.cli",
    "briefing.cli",
    "security.cli",
    "analysts.cli",
    "operations.cli",
    "llm_sre.evals.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-sre",
        description="Observability for self-hosted LLM and RAG applications.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; its return value is the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
