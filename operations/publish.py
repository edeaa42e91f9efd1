"""Where checklist results go besides the terminal: metrics, the last-status file, and Slack when a
check *flips* to FAIL (a check that stays failing is reported once, not on every run).

    results = await run_checklist("daily", settings)
    flipped = await publish(results, settings, registry)   # registry: the one /metrics serves

or both at once, as a scheduler job: ``await scheduled_run("daily", settings, registry)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from slack_sdk.webhook import WebhookClient

from alert_webhooks.delivery.slack import escape
from exporters.catalogue import metrics
from exporters.redact import redact
from operations.checklist import CheckResult, run_checklist
from operations.settings import OperationsSettings
from operations.thresholds import Status

log = logging.getLogger(__name__)

SECTION_MAX = 3000  # Block Kit section text limit (REFERENCE §5)


def record(results: list[CheckResult], registry: CollectorRegistry | None, now: float | None = None) -> None:
    """Set ``llm_sre_check_status`` per check and the list's last-run time."""
    m = metrics(registry)
    for r in results:
        m["llm_sre_check_status"].labels(checklist=r.checklist, check=r.check).set(int(r.status))
    for checklist in {r.checklist for r in results}:
        m["llm_sre_checklist_last_run_timestamp_seconds"].labels(checklist=checklist).set(
            time.time() if now is None else now)


def flips(results: list[CheckResult], state_dir: Path) -> list[CheckResult]:
    """Results that are FAIL now and were not at the previous run; remembers this run for the next."""
    if not results:
        return []
    path = state_dir / f"{results[0].checklist}.json"
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        before = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({r.check: r.status.name for r in results}))
    tmp.replace(path)
    return [r for r in results if r.status is Status.FAIL and before.get(r.check) != "FAIL"]


def slack_message(checklist: str, flipped: list[CheckResult], results: list[CheckResult]) -> dict[str, Any]:
    counts = ", ".join(f"{sum(r.status is s for r in results)} {s.name}" for s in Status)
    text = f"llm-sre {checklist} checklist: {len(flipped)} check(s) now FAIL ({counts})"
    # Results from run_checklist are masked already; masking again costs nothing and guards callers
    # that build results themselves.
    lines = [f"*{escape(r.check)}*: {escape(redact(r.value))}"
             + (f" — {escape(redact(r.note))}" if r.note else "")
             + f"\n  _do:_ {escape(r.remedy)}" for r in flipped]
    return summary(text, lines)


async def publish(
    results: list[CheckResult], settings: OperationsSettings, registry: CollectorRegistry | None = None
) -> list[CheckResult]:
    """Record metrics, detect flips to FAIL and post them to SLACK_WEBHOOK_URL; returns the flips."""
    record(results, registry)
    flipped = flips(results, settings.state_dir)
    if flipped:
        await send_slack(settings, slack_message(results[0].checklist, flipped, results))
    return flipped


async def send_slack(settings: OperationsSettings, body: dict[str, Any]) -> bool:
    """POST ``body`` to SLACK_WEBHOOK_URL if set; True when Slack took it.

    A Slack failure is logged, not raised: the verdict of the run stands without it.
    """
    if settings.slack_webhook_url is None:
        return False
    client = WebhookClient(settings.slack_webhook_url.get_secret_value(), timeout=10)
    try:
        resp = await asyncio.to_thread(client.send, text=body["text"], blocks=body["blocks"])
    except Exception as exc:  # network errors: the summary is lost, the run is not
        log.warning("slack summary not sent: %s", type(exc).__name__)
        return False
    if resp.status_code != 200:
        log.warning("slack refused the summary: HTTP %s %s", resp.status_code, resp.body)
    return resp.status_code == 200


def summary(text: str, lines: list[str]) -> dict[str, Any]:
    """A header and one mrkdwn section of already-escaped ``lines``, clipped to Slack's limit."""
    body = "\n".join(lines)
    if len(body) > SECTION_MAX:
        body = body[: SECTION_MAX - 1] + "…"
    return {"text": text, "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body, "verbatim": True}},
    ]}


async def scheduled_run(
    name: str, settings: OperationsSettings, registry: CollectorRegistry | None = None
) -> int:
    """One scheduled run of checklist ``name``: measure, export, notify; returns the FAIL count.

    A malformed checklist file raises ConfigError: the scheduler should log it and keep running.
    """
    results = await run_checklist(name, settings)
    await publish(results, settings, registry)
    return sum(r.status is Status.FAIL for r in results)
