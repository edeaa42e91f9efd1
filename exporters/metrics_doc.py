"""Render the metric catalogue as the Markdown table in ``docs/metrics.md``.

Generated, committed, and checked by a test (stale docs fail it); regenerate with
``llm-sre metrics-doc`` after editing :mod:`exporters.catalogue`.
"""

from __future__ import annotations

from pathlib import Path

from exporters.catalogue import SPECS, MetricSpec

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"

GROUPS = {
    "genai": "OpenTelemetry GenAI (client and server)",
    "http": "HTTP server (the app's FastAPI, through exporters.http_server)",
    "llm": "LLM calls",
    "rag": "Retrieval (RAG)",
    "cache": "Caches",
    "eval": "Evaluation",
    "ollama": "Ollama server",
    "containers": "Containers (Docker API, beside cAdvisor)",
    "traces": "Trace sidecar",
    "exporter": "Exporter health",
    "logs": "Logs",
    "webhook": "Webhook service",
    "analyst": "Incident analyst",
    "briefing": "Briefings and early warnings",
    "operations": "Operations (checklists, commit rules)",
}


def _labels(spec: MetricSpec) -> str:
    parts = []
    for label in spec.labels:
        values = spec.values.get(label)
        parts.append(f"`{label}`" + (f" ({'/'.join(values)})" if values else ""))
    return ", ".join(parts) or "—"


def _buckets(spec: MetricSpec) -> str:
    if not spec.buckets:
        return ""
    first, last = (str(int(v)) if v == int(v) else f"{v:g}" for v in (spec.buckets[0], spec.buckets[-1]))
    return f"{len(spec.buckets)}: {first} … {last}"


def render() -> str:
    lines = [
        "# Metric catalogue",
        "",
        "<!-- Generated from exporters/catalogue.py by `llm-sre metrics-doc`; do not edit by hand. -->",
        "",
        "Every metric llm-sre exports. Label values from outside (models, services, caches, error types)",
        "are bounded: normalised, then an allowlist or the first N distinct values, then `_OTHER`.",
        "`error_type` is empty on success, else the exception class or HTTP status.",
        "",
    ]
    for group, title in GROUPS.items():
        specs = [s for s in SPECS.values() if s.group == group]
        if not specs:
            continue
        lines += [f"## {title}", "", "| name | type | unit | labels | buckets | description |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{s.name}` | {s.kind} | {s.unit or ''} | {_labels(s)} | {_buckets(s)} | {s.help} |"
                  for s in specs]
        lines.append("")
    return "\n".join(lines)


def write(path: Path = DOC_PATH) -> bool:
    """Write the table; return True if the file changed."""
    text = render()
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
