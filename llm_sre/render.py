"""Render the shipped provisioning files for a loopback run (``llm-sre up``, the demo, the tests).

The files in ``provisioning/`` are written for docker-compose hostnames; rather than keep a second
copy for loopback, we load them and rewrite only what differs (targets, paths, intervals), so the
compose stack and the local stack can never drift apart in routing, inhibition or scrape labels.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Doc = dict[str, Any]


def prometheus_config(
    doc: Mapping[str, Any],
    *,
    targets: Mapping[str, str],
    rule_files: list[str],
    alertmanager: str,
    scrape_interval: str,
    evaluation_interval: str,
) -> Doc:
    """Keep the scrape jobs named in ``targets`` (job -> host:port), pointed at loopback; drop the rest.

    Jobs that only make sense in compose (cAdvisor, vLLM) are dropped rather than left down, so the
    target-down alert stays meaningful on a laptop.
    """
    out: Doc = copy.deepcopy(dict(doc))
    out["global"] = {
        **out.get("global", {}),
        "scrape_interval": scrape_interval,
        "evaluation_interval": evaluation_interval,
    }
    out["rule_files"] = list(rule_files)
    out["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    jobs = []
    for job in out.get("scrape_configs", []):
        name = job["job_name"]
        if name not in targets:
            continue
        job = {k: v for k, v in job.items() if k not in ("file_sd_configs", "scrape_interval")}
        labels: dict[str, str] = {}
        for group in job.get("static_configs", []):
            labels.update(group.get("labels", {}))
        job["static_configs"] = [{"targets": [targets[name]], "labels": labels or {"service": name}}]
        jobs.append(job)
    missing = set(targets) - {j["job_name"] for j in jobs}
    if missing:
        raise ValueError(f"provisioning/prometheus has no scrape job named {sorted(missing)}")
    out["scrape_configs"] = jobs
    return out


def alertmanager_config(
    doc: Mapping[str, Any],
    *,
    webhook_url: str,
    token_file: Path,
    group_wait: str | None = None,
    group_interval: str | None = None,
) -> Doc:
    """Point every llm-sre webhook receiver at ``webhook_url`` with the given bearer-token file."""
    out: Doc = copy.deepcopy(dict(doc))
    target = urlsplit(webhook_url)
    rewired = 0
    for receiver in out.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            if urlsplit(hook["url"]).path != target.path:
                continue
            hook["url"] = webhook_url
            auth = hook.setdefault("http_config", {}).setdefault("authorization", {"type": "Bearer"})
            auth.pop("credentials", None)
            auth["credentials_file"] = str(token_file)
            rewired += 1
    if not rewired:
        raise ValueError(f"provisioning/alertmanager has no webhook receiver with path {target.path}")
    route = out.setdefault("route", {})
    for key, value in (("group_wait", group_wait), ("group_interval", group_interval)):
        if value is not None:
            _set_timing(route, key, value)
    return out


def _set_timing(route: Doc, key: str, value: str, *, root: bool = True) -> None:
    """Override a group timing on the root route and on every child route that sets its own."""
    if root or key in route:
        route[key] = value
    for child in route.get("routes", []):
        _set_timing(child, key, value, root=False)
