"""``llm-sre exporter``: serve /metrics from trace files, and optionally Ollama and Docker.

With no options it tails ``TRACE_DIR`` (default ``<LLM_SRE_DATA_DIR>/traces``) and serves
``http://127.0.0.1:9464/metrics``; it creates nothing outside ``LLM_SRE_DATA_DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import docker
import ollama
from prometheus_client import CollectorRegistry
from prometheus_client.process_collector import ProcessCollector

from exporters import metrics_doc
from exporters.catalogue import SPECS
from exporters.containers import ContainerExporter
from exporters.instrument import from_settings
from exporters.ollama_server import OllamaPoller
from exporters.settings import ExporterSettings, get_settings
from exporters.sidecar import Sidecar, Source, add_serve_arguments, run_command
from exporters.traces import TraceSource

TRACE_FED_GROUPS = ("genai", "llm", "rag", "cache", "traces", "exporter")
DOCKER_API = "1.41"
DEFAULT_PORT = 9464


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "exporter",
        help="serve /metrics for trace files, an Ollama server and Docker containers",
        description="Tail JSONL trace files (TRACE_DIR) into Prometheus metrics and serve /metrics; "
        "optionally poll an Ollama server and the Docker engine.",
    )
    add_serve_arguments(p, DEFAULT_PORT)
    p.add_argument("--trace-dir", type=Path, default=None,
                   help="folder of *.jsonl trace files (default TRACE_DIR or <LLM_SRE_DATA_DIR>/traces)")
    p.add_argument("--no-traces", action="store_true", help="do not tail trace files")
    p.add_argument("--ollama", nargs="?", const="", default=None, metavar="URL",
                   help="poll an Ollama server's /api/ps and /api/tags (default URL: OLLAMA_HOST)")
    p.add_argument("--docker", nargs="?", const="", default=None, metavar="DOCKER_HOST",
                   help="export container state, resources and log error counts from the Docker API "
                   "(default: DOCKER_HOST or unix:///var/run/docker.sock)")
    p.set_defaults(func=run)
    doc = subparsers.add_parser("metrics-doc", help="regenerate docs/metrics.md from the metric catalogue",
                                description="Write the metric catalogue as Markdown (docs/metrics.md).")
    doc.add_argument("--check", action="store_true", help="exit 1 if docs/metrics.md is stale, write nothing")
    doc.set_defaults(func=run_metrics_doc)


def run_metrics_doc(args: argparse.Namespace) -> int:
    if args.check:
        stale = not metrics_doc.DOC_PATH.is_file() or metrics_doc.DOC_PATH.read_text() != metrics_doc.render()
        print(f"{metrics_doc.DOC_PATH}: {'stale' if stale else 'up to date'}")
        return int(stale)
    print(f"{metrics_doc.DOC_PATH}: {'written' if metrics_doc.write() else 'unchanged'}")
    return 0


def build(args: argparse.Namespace, settings: ExporterSettings) -> Sidecar:
    """The registry and the sources the options ask for."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    inst = from_settings(registry, settings)
    # Declare the trace-fed families up front so /metrics lists them (HELP/TYPE) before any event.
    for name, spec in SPECS.items():
        if spec.group in TRACE_FED_GROUPS:
            inst.metrics[name]
    sources: list[Source] = []
    if not args.no_traces:
        sources.append(TraceSource(inst, args.trace_dir or settings.traces, settings.data_dir,
                                   interval=settings.trace_poll_seconds,
                                   aggregate_every=settings.aggregate_seconds))
    if args.ollama is not None:
        client = ollama.Client(host=args.ollama or settings.ollama_host, timeout=10)
        sources.append(OllamaPoller(inst, client, interval=settings.ollama_poll_seconds))
    if args.docker is not None:
        # A fixed API version (Docker 20.10+; one-shot stats need 1.41) means no call at start-up:
        # a Docker daemon that is down shows as poll errors instead of a crash-looping exporter.
        client = docker.DockerClient(base_url=args.docker or settings.docker_host, version=DOCKER_API,
                                     timeout=10)
        cgroups = settings.cgroup_root if settings.cgroup_root.is_dir() else None
        containers = ContainerExporter(client, interval=settings.docker_poll_seconds,
                                       log_tail=settings.docker_log_tail, cgroup_root=cgroups,
                                       max_containers=settings.max_containers)
        registry.register(containers)
        sources.append(containers)
    return Sidecar(registry, sources)


def run(args: argparse.Namespace) -> int:
    return run_command(build(args, get_settings()), args, "llm-sre exporter")
