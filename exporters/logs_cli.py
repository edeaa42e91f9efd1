"""``llm-sre redact`` and ``llm-sre logs …``: the masker and the log-pattern tools from a shell."""

from __future__ import annotations

import argparse
import sys

from exporters.redact import redact_lines


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "redact",
        help="mask secrets in lines read from stdin",
        description="Read lines on stdin and write the same number of lines on stdout with every "
        "secret replaced by a typed marker such as [REDACTED:jwt].",
    )
    p.set_defaults(func=_redact)


def _redact(args: argparse.Namespace) -> int:
    # Line-buffered so `tail -f app.log | llm-sre redact` shows lines as they arrive.
    sys.stdout.reconfigure(line_buffering=True)
    sys.stdout.writelines(redact_lines(sys.stdin))
    return 0
