"""``llm-sre dashboards build``: write (or ``--check``) the generated dashboard JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llm_sre.dashboards import BOARDS
from llm_sre.dashboards.board import render


def rendered() -> dict[str, str]:
    """File name -> JSON text for every board, in a fresh build."""
    boards = (factory() for factory in BOARDS)
    return {f"{board.uid}.json": render(board) for board in boards}


def stale(out: Path) -> list[str]:
    """Files in ``out`` that differ from a fresh build, are missing, or no longer belong there."""
    fresh = rendered()
    problems = [
        name for name, text in fresh.items() if not (out / name).is_file() or (out / name).read_text() != text
    ]
    problems += sorted(path.name for path in out.glob("*.json") if path.name not in fresh)
    return problems


def build(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.check:
        problems = stale(out)
        for name in problems:
            print(f"out of date: {out / name}", file=sys.stderr)
        if problems:
            print("run `llm-sre dashboards build` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    out.mkdir(parents=True, exist_ok=True)
    fresh = rendered()
    for path in out.glob("*.json"):
        if path.name not in fresh:
            path.unlink()  # a board that was removed or renamed: its JSON must not linger
    for name, text in fresh.items():
        (out / name).write_text(text)
        print(out / name)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("dashboards", help="Grafana dashboards as code.")
    sub = parser.add_subparsers(dest="dashboards_command", metavar="ACTION", required=True)
    build_parser = sub.add_parser(
        "build",
        help="Render every dashboard to JSON for Grafana's file provisioning.",
        description="Render the llm-sre dashboards (grafana-foundation-sdk) into DIR/<uid>.json.",
    )
    build_parser.add_argument(
        "--out",
        type=Path,
        default=Path("dashboards"),
        metavar="DIR",
        help="output directory (default: dashboards)",
    )
    build_parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files differ from a fresh build"
    )
    build_parser.set_defaults(func=build)
