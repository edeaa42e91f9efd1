"""The daily list: the API answers, traces grow, the model is loaded, last 24 h error rates.

Beside the design's four items it reads the monitoring pipeline itself (Prometheus targets,
firing alerts, the webhook service), since a broken pipeline hides every other problem.
"""

from __future__ import annotations

import asyncio
import os
import shutil

from prometheus_client.parser import text_string_to_metric_families

from operations.checks import Check, Context, Measured, ProbeError, newest_mtime, ratio, worst
from operations.thresholds import Status, fmt


async def webhook_ready(ctx: Context) -> Measured:
    url = ctx.settings.webhook_url.rstrip("/") + "/readyz"
    resp = await ctx.get(url)
    body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    failing = [name for name, ok in (body.get("checks") or {}).items() if not ok]
    if resp.status_code == 200:
        return Measured(Status.PASS, "ready", "HTTP 200 from /readyz")
    return Measured(Status.FAIL, f"HTTP {resp.status_code}", "HTTP 200 from /readyz",
                    f"not ready: {', '.join(failing) or resp.text[:200]}")


async def webhook_dead_letters(ctx: Context) -> Measured:
    url = ctx.settings.webhook_url.rstrip("/") + "/metrics"
    resp = await ctx.get(url)
    if resp.status_code != 200:
        raise ProbeError(f"GET {url}: HTTP {resp.status_code}")
    values = [s.value for fam in text_string_to_metric_families(resp.text)
              if fam.name == "llm_sre_webhook_dead_letters" for s in fam.samples]
    if not values:
        raise ProbeError(f"{url} exports no llm_sre_webhook_dead_letters: is this llm-sre serve?")
    limit = ctx.limit("webhook_dead_letters")
    return Measured(limit.grade(max(values)), f"{max(values):.0f} dead letters", str(limit))


async def endpoints(ctx: Context) -> Measured:
    targets = ctx.config.endpoints
    if not targets:
        return Measured(Status.WARN, "none configured", "every endpoint answers < 400",
                        "list the API and UI health URLs under `endpoints:` in the checklist file")

    async def probe(url: str) -> str | None:
        try:
            resp = await ctx.get(url)
        except ProbeError as exc:
            return str(exc)
        return None if resp.status_code < 400 else f"HTTP {resp.status_code}"

    errors = await asyncio.gather(*(probe(e.url) for e in targets))
    bad = [f"{e.name}: {err}" for e, err in zip(targets, errors, strict=True) if err]
    value = f"{len(targets) - len(bad)}/{len(targets)} answered"
    status = Status.FAIL if bad else Status.PASS
    return Measured(status, value, "every endpoint answers < 400", "; ".join(bad))


async def prometheus_targets(ctx: Context) -> Measured:
    total = await ctx.promql("count(up)")
    if not total:
        return Measured(Status.WARN, "no targets", "", "Prometheus scrapes nothing: check its scrape_configs")
    down = await ctx.promql("count(up == 0) or vector(0)") or 0
    jobs = await ctx.promql_labels("count by (job, instance) (up == 0)")
    limit = ctx.limit("prometheus_targets_down")
    names = ", ".join(f"{j.get('job')}@{j.get('instance')}" for j in jobs[:5])
    return Measured(limit.grade(down), f"{down:.0f} of {total:.0f} down", str(limit), names)


async def alerts_firing(ctx: Context) -> Measured:
    url = ctx.settings.alertmanager_url.rstrip("/") + "/api/v2/alerts"
    alerts = await ctx.get_json(url, params={"active": "true", "silenced": "false", "inhibited": "false"})
    # severity "none" is the Watchdog heartbeat: always firing by design.
    firing = [a["labels"] for a in alerts if a.get("labels", {}).get("severity") != "none"]
    severe = [a for a in firing if a.get("severity") in ctx.config.fail_severities]
    status = Status.FAIL if severe else Status.WARN if firing else Status.PASS
    names = ", ".join(f"{a.get('alertname')} ({a.get('severity', '?')})" for a in (severe + firing)[:5])
    threshold = f"{'/'.join(ctx.config.fail_severities)} → FAIL, other severities → WARN"
    return Measured(status, f"{len(firing)} firing", threshold, names)


async def traces_growing(ctx: Context) -> Measured:
    root = ctx.settings.traces
    newest = newest_mtime(root, "*.jsonl")
    if newest is None:
        return Measured(Status.FAIL, "no *.jsonl files", "", f"nothing under {root}")
    limit = ctx.limit("trace_age_minutes")
    age = max(0.0, ctx.now - newest) / 60
    return Measured(limit.grade(age), f"last write {fmt(age, 'min')} ago", str(limit))


async def data_dir_free(ctx: Context) -> Measured:
    root = ctx.settings.data_dir
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    limit = ctx.limit("data_dir_free_ratio")
    free = usage.free / usage.total
    value = f"{free:.1%} free ({fmt(usage.free, 'B')})"
    if not os.access(probe, os.W_OK):
        return Measured(Status.FAIL, value, str(limit), f"{probe} is not writable")
    note = "" if root.exists() else f"{root} does not exist yet (measured {probe})"
    return Measured(limit.grade(free), value, str(limit), note)


async def model_loaded(ctx: Context) -> Measured:
    s = ctx.settings
    if s.model_server == "openai":
        ids = await openai_models(ctx)
        want = ctx.config.model or s.openai_model
        ok = want in ids
        return Measured(Status.PASS if ok else Status.FAIL, f"serving {', '.join(ids[:5]) or 'nothing'}",
                        f"{want} listed by /v1/models")
    want = expected_ollama_model(ctx)
    ps = await ctx.get_json(s.ollama_host.rstrip("/") + "/api/ps")
    loaded = {m["name"]: m for m in ps.get("models", [])}
    limit = ctx.limit("model_memory_bytes")
    memory = sum(m.get("size", 0) for m in loaded.values())
    value = f"{len(loaded)} loaded, {fmt(memory, 'B')}"
    if want not in loaded:
        return Measured(worst(Status.WARN, limit.grade(memory)), value, f"{want} loaded; memory {limit}",
                        f"{want} is not loaded: the next request pays the load time")
    model = loaded[want]
    in_vram = model.get("size_vram", 0) / model["size"] if model.get("size") else 0.0
    note = f"{want}: {in_vram:.0%} in VRAM" if 0 < in_vram < 1 else ""
    return Measured(limit.grade(memory), value, f"{want} loaded; memory {limit}", note)


def expected_ollama_model(ctx: Context) -> str:
    """Ollama names a model without a tag ``:latest``."""
    want = ctx.config.model or ctx.settings.ollama_model
    return want if ":" in want else f"{want}:latest"


async def openai_models(ctx: Context) -> list[str]:
    s = ctx.settings
    if not s.openai_base_url:
        raise ProbeError("LLM_SRE_CHECKLIST_MODEL_SERVER=openai needs LLM_SRE_OPENAI_BASE_URL")
    key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
    data = await ctx.get_json(s.openai_base_url.rstrip("/") + "/models",
                              headers={"Authorization": f"Bearer {key}"} if key else {})
    return [m["id"] for m in data.get("data", [])]


async def _llm_ratio(ctx: Context, part: str, limit_name: str) -> Measured:
    value = await ratio(ctx, "llm_sre_llm_calls_total", part, "24h")
    limit = ctx.limit(limit_name)
    if value is None:
        return Measured(Status.WARN, "no LLM calls in 24h", str(limit),
                        "llm_sre_llm_calls_total has no data: is the app instrumented and scraped?")
    return Measured(limit.grade(value), f"{value:.2%}", str(limit))


async def error_ratio(ctx: Context) -> Measured:
    return await _llm_ratio(ctx, 'error_type!=""', "error_ratio")


async def timeout_ratio(ctx: Context) -> Measured:
    return await _llm_ratio(ctx, 'error_type=~"(?i).*timeout.*"', "timeout_ratio")


CHECKS: tuple[Check, ...] = (
    Check("webhook_ready", "API server responds", "check `llm-sre serve` logs; /readyz names the failing "
          "part (store, worker)", webhook_ready),
    Check("webhook_dead_letters", "API server responds", "fix the sink (Slack/Grafana), then "
          "`llm-sre replay --dead-letters`", webhook_dead_letters, ("webhook_dead_letters",)),
    Check("endpoints", "API server / UI respond", "open the failing URL; restart the service it names",
          endpoints),
    Check("prometheus_targets", "monitoring pipeline", "open Prometheus /targets and fix the down "
          "scrape target", prometheus_targets, ("prometheus_targets_down",)),
    Check("alerts_firing", "monitoring pipeline", "work the firing alerts (their runbook_url) or silence "
          "known ones", alerts_firing),
    Check("traces_growing", "trace files growing", "check TRACE_DIR and TRACE_ENABLE in the app; is it "
          "receiving traffic?", traces_growing, ("trace_age_minutes",)),
    Check("data_dir_free", "data dir has room for the traces", "free disk space or move "
          "LLM_SRE_DATA_DIR; archive old traces", data_dir_free, ("data_dir_free_ratio",)),
    Check("model_loaded", "model server loaded / memory", "`ollama ps`; `ollama run <model>` to load it; "
          "lower OLLAMA_MAX_LOADED_MODELS if memory is high", model_loaded, ("model_memory_bytes",)),
    Check("error_ratio", "24 h error rate", "break errors down by error_type on the LLM dashboard; see "
          "the LLMErrorBurst runbook", error_ratio, ("error_ratio",)),
    Check("timeout_ratio", "24 h timeout rate", "check model server load and client timeouts; a model "
          "reload or CPU fallback is the usual cause", timeout_ratio, ("timeout_ratio",)),
)
