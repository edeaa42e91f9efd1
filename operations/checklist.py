"""Run a checklist: every check at once, each bounded, each failure a FAIL line with its error.

    results = await run_checklist("daily", OperationsSettings())
    print(render(results)); sys.exit(exit_code(results))

``llm-sre serve`` runs the same function on the cron of LLM_SRE_CHECKLIST_<NAME>_CRON and hands
the results to :func:`operations.publish.publish` (metrics, Slack on a flip to FAIL).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from exporters.redact import redact
from operations import daily, deploy, weekly
from operations.checks import Check, Context, ProbeError
from operations.settings import OperationsSettings
from operations.thresholds import ChecklistFile, Status, load

LISTS: dict[str, tuple[Check, ...]] = {
    "daily": daily.CHECKS, "weekly": weekly.CHECKS, "deploy": deploy.CHECKS,
}


@dataclass(frozen=True)
class CheckResult:
    checklist: str
    check: str
    status: Status
    value: str
    threshold: str
    remedy: str  # empty on PASS
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.name}


async def _one(checklist: str, check: Check, ctx: Context, deadline: float) -> CheckResult:
    try:
        m = await asyncio.wait_for(check.run(ctx), deadline)
        status, value, threshold, note = m.status, m.value, m.threshold, m.note
    except TimeoutError:
        status, value, threshold, note = Status.FAIL, "no answer", "", f"timed out after {deadline:g} s"
    except ProbeError as exc:
        status, value, threshold, note = Status.FAIL, "unreachable", "", str(exc)
    except Exception as exc:  # any failure to measure is a FAIL line, never a traceback
        status, value, threshold, note = Status.FAIL, "error", "", f"{type(exc).__name__}: {exc}"
    remedy = check.remedy if status is not Status.PASS else ""
    return CheckResult(checklist, check.name, status, redact(value), threshold, remedy, redact(note))


async def run_checklist(
    name: str,
    settings: OperationsSettings,
    config: ChecklistFile | None = None,
    http: httpx.AsyncClient | None = None,
    now: float | None = None,
) -> list[CheckResult]:
    """Run list ``name``; ``config`` defaults to LLM_SRE_CHECKLIST_FILE (ConfigError if malformed)."""
    config = config if config is not None else load(settings.checklist_file)
    timeout = settings.check_timeout_seconds
    own = http is None
    client = http or httpx.AsyncClient(timeout=timeout)
    ctx = Context(settings, config, client, time.time() if now is None else now)
    # The smoke query may legitimately take longer than a probe; every other check gets the probe
    # timeout plus slack for several sequential queries.
    smoke = config.limit("smoke_latency_seconds").fail or 0
    try:
        return list(await asyncio.gather(*(
            _one(name, c, ctx, max(timeout, smoke) + timeout * 2) for c in LISTS[name]
        )))
    finally:
        if own:
            await client.aclose()


def exit_code(results: list[CheckResult]) -> int:
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def render(results: list[CheckResult]) -> str:
    """One line per check; the threshold, remedy and note indented below when not a PASS."""
    lines = []
    width = max((len(r.check) for r in results), default=0)
    for r in results:
        lines.append(f"{r.status.name:<4}  {r.check:<{width}}  {r.value}")
        if r.status is not Status.PASS:
            lines += [f"      {'threshold':>9}: {r.threshold}"] if r.threshold else []
            lines += [f"      {'why':>9}: {r.note}"] if r.note else []
            lines.append(f"      {'do':>9}: {r.remedy}")
    counts = {s: sum(r.status is s for r in results) for s in Status}
    lines.append(" ".join(f"{counts[s]} {s.name}" for s in Status))
    return "\n".join(lines)


def to_json(results: list[CheckResult]) -> str:
    return json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False)
