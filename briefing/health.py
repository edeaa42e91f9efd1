"""The 5-minute container health report for ``slm.reports``, read from the container exporter's
series in Prometheus (``exporters/containers.py``: up, health, CPU, memory, restarts, log errors).

Shape (design doc 000)::

    {"type": "container_health", "timestamp": "2026-01-22T10:30:00Z",
     "containers": [{"name": "api", "cpu": "12%", "memory": "512MB", "status": "healthy", "errors": 0}],
     "summary": "All 4 containers running normally."}

``cpu`` is percent of one core over 5 minutes (``docker stats`` style), ``memory`` the working set
in MiB written "MB" as ``docker stats`` does. When Prometheus cannot be read the report still goes
out, with no containers and the reason in ``summary`` and ``error``: silence would read as health.
"""

from __future__ import annotations

import asyncio
from typing import Any

from briefing.items import iso
from briefing.prometheus import Prometheus, PrometheusError

QUERIES = {
    "up": "max by (name) (llm_sre_container_up)",
    "health": "max by (name, status) (llm_sre_container_health_status == 1)",
    "cpu": "sum by (name) (rate(llm_sre_container_cpu_usage_seconds_total[5m]))",
    "memory": "max by (name) (llm_sre_container_memory_working_set_bytes)",
    "errors": "sum by (name) (increase(llm_sre_container_log_errors_total[5m]))",
    "restarts": "sum by (name) (increase(llm_sre_container_restarts_total[5m]))",
}


def _status(name: str, up: dict[str, float], health: dict[str, str]) -> str:
    if up.get(name, 1.0) == 0:
        return "exited"
    status = health.get(name, "none")
    return "running" if status == "none" else status


def summary(containers: list[dict[str, Any]], restarts: dict[str, int]) -> str:
    problems = []
    for c in containers:
        notes = []
        if c["status"] not in ("healthy", "running"):
            notes.append(f"is {c['status']}")
        if c["errors"]:
            notes.append(f"logged {c['errors']} error line(s)")
        if restarts.get(c["name"]):
            notes.append(f"restarted {restarts[c['name']]} time(s)")
        if notes:
            problems.append(f"{c['name']} {' and '.join(notes)}")
    if not containers:
        return "No containers reported by the container exporter."
    if not problems:
        return f"All {len(containers)} containers running normally."
    ok = len(containers) - len(problems)
    return f"{'; '.join(problems)} in the last 5 min. {ok} of {len(containers)} containers without issues."


async def container_health(prom: Prometheus, at: float) -> dict[str, Any]:
    report: dict[str, Any] = {"type": "container_health", "timestamp": iso(at), "containers": []}
    try:
        results = await asyncio.gather(*(prom.instant(q, at) for q in QUERIES.values()))
    except PrometheusError as exc:
        report["summary"] = f"Container data unavailable: {exc}."
        report["error"] = str(exc)
        return report
    by = dict(zip(QUERIES, results, strict=True))
    per = {
        k: {labels.get("name", "?"): v for labels, v in by[k]}
        for k in ("up", "cpu", "memory", "errors", "restarts")
    }
    health = {labels.get("name", "?"): labels.get("status", "none") for labels, _ in by["health"]}
    names = sorted(set(per["up"]) | set(per["memory"]) | set(health))
    containers = [
        {
            "name": name,
            "cpu": f"{round(per['cpu'].get(name, 0.0) * 100)}%",
            "memory": f"{round(per['memory'].get(name, 0.0) / 2**20)}MB",
            "status": _status(name, per["up"], health),
            "errors": round(per["errors"].get(name, 0.0)),
        }
        for name in names
    ]
    restarts = {n: round(v) for n, v in per["restarts"].items()}
    report["containers"] = containers
    report["summary"] = summary(containers, restarts)
    return report
