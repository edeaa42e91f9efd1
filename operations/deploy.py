"""The deploy list: variables applied, documents re-indexed, the expected model tag served, and a
smoke query whose *answer* (not only its status) is checked."""

from __future__ import annotations

import re
import time
from typing import Any

from exporters.redact import redact
from operations.checks import Check, Context, Measured, ProbeError, newest_mtime
from operations.daily import expected_ollama_model, openai_models
from operations.thresholds import Status, fmt
from operations.weekly import vector_store_dir


async def environment(ctx: Context) -> Measured:
    names = ctx.config.required_env
    if not names:
        return Measured(Status.WARN, "none listed", "every required_env set",
                        "list the variables a deployment must set under `required_env:`")
    # Names only, never values: they are often secrets.
    missing = [n for n, v in ctx.settings.environment(names).items() if not v]
    value = f"{len(names) - len(missing)}/{len(names)} set"
    return Measured(Status.FAIL if missing else Status.PASS, value, "every required_env set",
                    f"unset: {', '.join(missing)}" if missing else "")


async def reindexed(ctx: Context) -> Measured:
    docs = ctx.config.docs_dir or ctx.settings.data_dir / "docs"
    index = vector_store_dir(ctx)
    changed = newest_mtime(docs)
    if changed is None:
        return Measured(Status.WARN, "no documents", "index newer than every document",
                        f"{docs} is empty or missing: set docs_dir")
    indexed = newest_mtime(index)
    if indexed is None:
        return Measured(Status.FAIL, "no index", "index newer than every document", f"{index} is empty")
    lag = changed - indexed
    if lag > 0:
        return Measured(Status.FAIL, f"documents changed {fmt(lag / 60, 'min')} after the last index write",
                        "index newer than every document")
    return Measured(Status.PASS, "index is newer than the documents", "index newer than every document")


async def model_tag(ctx: Context) -> Measured:
    if ctx.settings.model_server == "openai":
        want = ctx.config.model or ctx.settings.openai_model
        ids = await openai_models(ctx)
        return Measured(Status.PASS if want in ids else Status.FAIL, f"served: {', '.join(ids[:5])}",
                        f"{want} served")
    want = expected_ollama_model(ctx)
    tags = await ctx.get_json(ctx.settings.ollama_host.rstrip("/") + "/api/tags")
    pulled = {m["name"]: m.get("digest", "") for m in tags.get("models", [])}
    digest = ctx.config.model_digest
    threshold = f"{want} pulled" + (f" with digest {digest}…" if digest else "")
    if want not in pulled:
        return Measured(Status.FAIL, f"pulled: {', '.join(sorted(pulled)[:5]) or 'nothing'}", threshold,
                        f"`ollama pull {want}`")
    if digest and not pulled[want].startswith(digest):
        return Measured(Status.FAIL, f"{want} digest {pulled[want][:12]}", threshold,
                        "the tag now points at another build: pin the digest or re-test the model")
    return Measured(Status.PASS, f"{want} digest {pulled[want][:12]}", threshold)


def pick(data: Any, path: str) -> Any:
    """``choices.0.message.content`` → data["choices"][0]["message"]["content"]; KeyError if absent."""
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(part)
    return data


async def smoke_query(ctx: Context) -> Measured:
    smoke = ctx.config.smoke
    if smoke is None:
        return Measured(Status.WARN, "not configured", "", "add `smoke:` (url, body, field, expect)")
    limit = ctx.limit("smoke_latency_seconds")
    threshold = f"`{smoke.field}` present" + (f", contains {smoke.expect!r}" if smoke.expect else "") + \
        (f", matches /{smoke.expect_pattern}/" if smoke.expect_pattern else "") + f"; latency {limit}"
    started = time.monotonic()
    resp = await ctx.request(smoke.method, smoke.url, json=smoke.body, headers=smoke.headers,
                             timeout=max(ctx.settings.check_timeout_seconds, limit.fail or 0))
    took = time.monotonic() - started
    if resp.status_code >= 400:
        return Measured(Status.FAIL, f"HTTP {resp.status_code}", threshold, redact(resp.text[:200]))
    try:
        answer = pick(resp.json(), smoke.field)
    except (ValueError, KeyError) as exc:
        raise ProbeError(f"answer has no `{smoke.field}` ({exc}): {redact(resp.text[:200])}") from None
    text = answer if isinstance(answer, str) else str(answer)
    shown = redact(text[:120])
    value = f"answered in {took:.2f} s: {shown!r}"
    if not text.strip():
        return Measured(Status.FAIL, value, threshold, "the answer is empty")
    if smoke.expect and smoke.expect not in text:
        return Measured(Status.FAIL, value, threshold, f"expected {smoke.expect!r} in the answer")
    if smoke.expect_pattern and not re.search(smoke.expect_pattern, text):
        return Measured(Status.FAIL, value, threshold, f"expected /{smoke.expect_pattern}/ in the answer")
    return Measured(limit.grade(took), value, threshold)


CHECKS: tuple[Check, ...] = (
    Check("environment", "environment variables applied", "set the missing variables in the "
          "deployment (.env, compose, Helm values) and redeploy", environment),
    Check("reindexed", "documents re-indexed after changes", "run the ingestion (e.g. `python "
          "backend/voc/rag/ingest.py`)", reindexed),
    Check("model_tag", "model version / tag", "`ollama pull <model>` or fix OLLAMA_MODEL / model:",
          model_tag),
    Check("smoke_query", "smoke query answered", "call the URL by hand; check the model, prompt and "
          "retrieval behind it", smoke_query, ("smoke_latency_seconds",)),
)
