"""The briefing's summary in the local model's words, under the incident analyst's grounding rules.

Each item line becomes an evidence entry ``E1…En``; the model must cite them, and every number and
name in a sentence must occur in what it cites (:func:`alert_webhooks.analysis.grounding.ground_answer`).
Below the grounding threshold, on a timeout, an error or a malformed answer, the deterministic
summary stands and the briefing says why. Tokens and seconds are counted per briefing.

    summary, report = await write_summary(llm, briefing, deadline=30, threshold=0.6)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import replace
from pathlib import Path

from alert_webhooks.analysis.grounding import ground_answer, uncited
from alert_webhooks.analysis.llm import LLM
from briefing.items import Briefing, LLMReport
from briefing.markdown import item_lines
from exporters.redact import redact

log = logging.getLogger(__name__)
PROMPT = (Path(__file__).parent / "prompts" / "briefing.md").read_text()
SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "array", "items": {"type": "string"}, "maxItems": 6}},
    "required": ["summary"],
}
# The adapters return text, not token counts, so tokens are estimated from characters; 4 per token
# is the usual figure for English on BPE tokenizers. Reported as an estimate in docs/briefings.md.
CHARS_PER_TOKEN = 4


def evidence(b: Briefing) -> dict[str, str]:
    lines = [f"{title}: {line}" for title, items in item_lines(b).items() for line in items]
    return {f"E{n}": redact(line.replace("**", "")) for n, line in enumerate(lines, 1)}


def messages(ev: dict[str, str]) -> list[dict[str, str]]:
    listing = "\n".join(f"[{k}] {v}" for k, v in ev.items())
    return [{"role": "system", "content": PROMPT}, {"role": "user", "content": f"Evidence:\n{listing}"}]


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


async def write_summary(
    llm: LLM | None, b: Briefing, deadline: float, threshold: float
) -> tuple[str | None, LLMReport]:
    """The grounded summary (citations removed) or ``None`` with the reason in the report."""
    if llm is None:
        return None, LLMReport(None, False, "no LLM configured")
    if b.quiet:
        return None, LLMReport(None, False, "nothing to summarise")
    ev = evidence(b)
    msgs = messages(ev)
    tokens_in = sum(tokens(m["content"]) for m in msgs)
    model = getattr(llm, "model", None)
    started = time.perf_counter()
    try:
        done = await asyncio.wait_for(llm.complete(msgs, SCHEMA), deadline)
    except TimeoutError:
        return None, LLMReport(model, False, f"timeout after {deadline:g} s", tokens_in, 0, deadline)
    except Exception as exc:  # the model server failing costs the prose, never the briefing
        log.warning("briefing LLM failed: %s", type(exc).__name__)
        seconds = time.perf_counter() - started
        return None, LLMReport(model, False, f"error: {type(exc).__name__}", tokens_in, 0, round(seconds, 3))
    seconds = round(time.perf_counter() - started, 3)
    report = LLMReport(done.model, False, "", tokens_in, tokens(done.content), seconds)
    try:
        sentences = json.loads(done.content)["summary"]
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return None, replace(report, reason="malformed answer")
    verdict = ground_answer({"summary": [redact(s) for s in sentences]}, ev)
    kept = verdict.fields["summary"]
    if verdict.ratio < threshold or not kept:
        return None, replace(report, reason=f"ungrounded ({verdict.dropped} of "
                                          f"{verdict.kept + verdict.dropped} sentences unsupported)",
                           grounded_ratio=round(verdict.ratio, 3))  # fmt: skip
    text = " ".join(uncited(s) for s in kept)
    return text, replace(report, accepted=True, grounded_ratio=round(verdict.ratio, 3))
