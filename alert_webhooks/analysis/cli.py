"""``llm-sre analyze``: run the service's analyst on a saved Alertmanager payload.

Same code path as the worker — :meth:`IncidentAnalyst.first` then the LLM phase — so what an
engineer sees here is what Slack would have shown. Useful to replay an incident, tune runbooks
and check a model's grounding before pointing the service at it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.analysis.result import AnalysisResult
from alert_webhooks.schemas import Notification
from alert_webhooks.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse an Alertmanager payload and print the AnalysisResult as JSON",
        description=(
            "Analyse one Alertmanager webhook payload with the service's analyst (evidence from "
            "PROMETHEUS_URL/LOKI_URL when set, runbooks, then the LLM unless --no-llm) and print "
            "the AnalysisResult JSON."
        ),
    )
    parser.add_argument(
        "--alert", type=Path, required=True, metavar="PAYLOAD.json", help="Alertmanager payload"
    )
    parser.add_argument(
        "--logs", type=Path, metavar="FILE", help="log lines to use as evidence, one per line"
    )
    parser.add_argument(
        "--metrics",
        type=Path,
        metavar="FILE.json",
        help='JSON object of metrics, e.g. {"used_memory": 1048576}',
    )
    parser.add_argument("--no-llm", action="store_true", help="deterministic analysis only")
    parser.add_argument("--incident-id", help="id to store the result under (default: cli-<fingerprint>)")
    parser.set_defaults(func=run)


async def analyse(
    analyst: IncidentAnalyst, incident_id: str, notification: Notification, logs: list[str], metrics: dict
) -> AnalysisResult:
    first = await analyst.first(incident_id, notification, logs=logs, extra_metrics=metrics)
    return await analyst.conclude(first)


def _load_metrics(path: Path | None) -> dict:
    if path is None:
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of metric name -> value")
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}


def run(args: argparse.Namespace) -> int:
    try:
        notification = Notification.model_validate_json(args.alert.read_text())
        metrics = _load_metrics(args.metrics)
        logs = args.logs.read_text(errors="replace").splitlines() if args.logs else []
    except (OSError, ValueError, ValidationError) as exc:
        print(f"llm-sre analyze: {exc}", file=sys.stderr)
        return 2
    analyst = build_analyst(get_settings(), registry=CollectorRegistry(), use_llm=not args.no_llm)
    incident_id = args.incident_id or f"cli-{notification.alerts[0].fingerprint}"
    result = asyncio.run(analyse(analyst, incident_id, notification, logs, metrics))
    print(result.model_dump_json(indent=2))
    return 0
