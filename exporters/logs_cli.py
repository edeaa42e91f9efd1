"""``llm-sre redact`` and ``llm-sre logs mine|export``: the masker and the log-pattern tools from a shell."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from clustering import cli as cluster_cli
from clustering.live import live_listeners
from exporters import loki_cli
from exporters.log_exporter import FileSource, LineSource, LokiSource, PatternCounter
from exporters.logformat import DETECT_LINES, LogFormat, detect, parse
from exporters.loki import query_client
from exporters.patterns import PatternMiner
from exporters.redact import redact_lines
from exporters.settings import ExporterSettings, get_settings
from exporters.sidecar import Sidecar, Source, add_serve_arguments, run_command

DEFAULT_PORT = 9465


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "redact",
        help="mask secrets in lines read from stdin",
        description="Read lines on stdin and write the same number of lines on stdout with every "
        "secret replaced by a typed marker such as [REDACTED:jwt].",
    )
    p.set_defaults(func=_redact)

    logs = subparsers.add_parser("logs", help="mine log templates; export log patterns as metrics",
                                 description="Log template mining and the log-pattern exporter.")
    sub = logs.add_subparsers(dest="logs_command", metavar="COMMAND", required=True)
    loki_cli.register(sub)  # replay, dlq

    mine = sub.add_parser("mine", help="print the template of every line as JSON",
                          description='Print one JSON line per input line: {"line_no", "pattern_id", '
                          '"template"} (plus "level"). Reads FILE, or stdin when FILE is omitted or -.')
    mine.add_argument("file", nargs="?", default="-", help="log file (default: stdin)")
    mine.add_argument("--state", type=Path, default=None,
                      help="miner state file to load and update, so pattern ids stay stable across runs")
    mine.add_argument("--format", default=None, metavar="FORMAT",
                      help='line header, e.g. "<Date> <Time> <Level> <Component>: <Content>" (loghub style); '
                      "default: detected from the first lines, else each line is parsed on its own")
    mine.set_defaults(func=_mine)

    export = sub.add_parser(
        "export", help="serve log-pattern metrics from files, stdin or Loki",
        description="Count llm_sre_log_events_total{service,level,pattern}, "
        "llm_sre_log_new_patterns_total and llm_sre_app_errors_total from log lines; serve /metrics.",
    )
    export.add_argument("--file", action="append", default=[], metavar="[SERVICE=]PATH",
                        help="log file to follow (repeatable); SERVICE defaults to --service")
    export.add_argument("--stdin", action="store_true", help="count lines read from stdin")
    export.add_argument("--loki", nargs="?", const="", default=None, metavar="URL",
                        help="poll Loki (default URL: LOKI_URL) with LLM_SRE_LOKI_QUERY")
    export.add_argument("--service", default=None, help="service label (default LLM_SRE_SERVICE)")
    export.add_argument("--from-start", action="store_true",
                        help="read existing file contents on first start (default: only new lines)")
    add_serve_arguments(export, DEFAULT_PORT)
    export.set_defaults(func=_export)
    cluster_cli.register(sub)


def _redact(args: argparse.Namespace) -> int:
    # Line-buffered so `tail -f app.log | llm-sre redact` shows lines as they arrive.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stdout.writelines(redact_lines(sys.stdin))
    return 0


def _open(name: str) -> Iterable[str]:
    return sys.stdin if name == "-" else Path(name).open(encoding="utf-8", errors="replace")


def _mine(args: argparse.Namespace) -> int:
    try:
        given = LogFormat(args.format) if args.format else None
    except ValueError as exc:
        raise SystemExit(f"llm-sre logs mine: {exc}") from exc
    lines = iter(_open(args.file))
    head = list(itertools.islice(lines, DETECT_LINES))
    fmt = given or detect(head)
    miner = PatternMiner(state_path=args.state)
    for line_no, line in enumerate(itertools.chain(head, lines), start=1):
        parsed = parse(line, fmt)
        match = miner.add(parsed.message)
        print(json.dumps({"line_no": line_no, "pattern_id": match.pattern_id, "template": match.template,
                          "level": parsed.level}, ensure_ascii=False))
    miner.save()
    return 0


def _parse_file(spec: str, default_service: str) -> tuple[Path, str]:
    service, sep, path = spec.partition("=")
    return (Path(path), service) if sep else (Path(spec), default_service)


def build(args: argparse.Namespace, settings: ExporterSettings) -> Sidecar:
    """The counter and the sources the options ask for (at least one is required)."""
    service = args.service or settings.service
    state_dir = settings.log_state_dir or settings.data_dir / "logs"
    state_dir.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    counter = PatternCounter(registry, service=service, state_dir=state_dir, top_n=settings.log_top_patterns,
                             max_values=settings.max_label_values,
                             listeners=live_listeners(registry, settings.data_dir))
    sources: list[Source] = []
    if args.file:
        files = dict(_parse_file(spec, service) for spec in args.file)
        sources.append(FileSource(counter, files, state_dir / "offsets.json",
                                  interval=settings.log_poll_seconds, from_start=args.from_start))
    if args.stdin:
        sources.append(LineSource(counter, sys.stdin, service))
    if args.loki is not None:
        url = args.loki or settings.loki_url
        if not url:
            raise SystemExit("--loki needs a URL or LOKI_URL")
        sources.append(LokiSource(counter, query_client(settings), url, settings.loki_query,
                                  interval=settings.loki_poll_seconds))
    if not sources:
        raise SystemExit("llm-sre logs export: give at least one of --file, --stdin or --loki")
    # Pattern ids and admissions survive the restart.
    return Sidecar(registry, sources, save=counter.save)


def _export(args: argparse.Namespace) -> int:
    return run_command(build(args, get_settings()), args, "llm-sre logs export")
