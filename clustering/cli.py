"""``llm-sre logs cluster FILE``: group a log file's errors and warnings into incidents."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from analysts.settings import get_settings as analyst_settings
from clustering.embed import build_embedder
from clustering.events import open_input, read_events
from clustering.pipeline import ClusterPipeline, explain
from clustering.settings import get_settings
from clustering.store import save_snapshot


def register(logs_subparsers: Any) -> None:
    """Adds ``cluster`` to the ``llm-sre logs`` group (exporters/logs_cli.py owns the group)."""
    p = logs_subparsers.add_parser(
        "cluster",
        help="group error/warning lines of a file into incidents by meaning",
        description="Summarise each error/warning line as a wide event, embed it (Ollama, an "
        "OpenAI-compatible server, or the local TF-IDF vectoriser when none answers) and cluster "
        "with DBSCAN/HDBSCAN. --json prints the incidents and each line's cluster id (-1 = noise).",
    )
    p.add_argument("file", help="log file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--service", default="app", help="service of lines that name none (default: app)")
    p.add_argument(
        "--embedder",
        choices=("ollama", "openai", "local"),
        default=None,
        help="override LLM_SRE_EMBED_BACKEND",
    )
    p.add_argument("--eps", type=float, default=None, help="override LLM_SRE_CLUSTER_EPS")
    p.add_argument("--no-llm", action="store_true", help="deterministic root-cause text only")
    p.add_argument(
        "--save",
        action="store_true",
        help="also store the result as the snapshot GET /api/v1/clusters serves",
    )
    p.set_defaults(func=_cluster)


def _cluster(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.embedder:
        settings = settings.model_copy(update={"embed_backend": args.embedder})
    with open_input(args.file) as source:
        events, stats = read_events(source, args.service)
    pipeline = ClusterPipeline(
        build_embedder(settings),
        algorithm=settings.algorithm,
        eps=args.eps or settings.eps,
        min_samples=settings.min_samples,
    )
    run = pipeline.run(events)
    if not args.no_llm:
        llm_settings = analyst_settings()
        asyncio.run(explain(run.incidents, llm_settings.llm(), llm_settings.deadline_seconds))
    doc = run.summary()
    doc["stats"] = {
        "lines": stats.lines,
        "unparseable": stats.unparseable,
        "ignored": stats.ignored,
        "unparseableReasons": stats.reasons,
    }
    doc["lines"] = [
        {"line_no": e.line_no, "cluster": label} for e, label in zip(events, run.labels, strict=True)
    ]
    if args.save:
        save_snapshot(settings.data_dir, run.summary())
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(
        f"embedder: {doc['embedder']}"
        + (f" (fallback: {run.embedding.fallback_reason})" if run.embedding.fallback_reason else "")
    )
    print(
        f"{stats.lines} lines, {len(events)} events, {stats.unparseable} unparseable, "
        f"{doc['noise']} unclustered"
    )
    for inc in run.incidents:
        print(f"\n{inc.incidentId} [{inc.severity}] {inc.events} events, services {', '.join(inc.services)}")
        print(f"  {inc.rootCauseAnalysis}")
    return 0
