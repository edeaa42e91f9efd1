"""The scheduled digest: one briefing, sent everywhere it is configured to go.

digest = Digest(briefer, period=86400, slack=..., grafana=..., reports_dir=Path("data/context_reports"))
await digest.run(at=time.time())
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from briefing.briefer import Briefer
from briefing.items import Briefing
from briefing.markdown import evidence_appendix
from briefing.publish import GrafanaAnnotator, RedisChannels, SlackPoster, write_context_report

log = logging.getLogger(__name__)


@dataclass
class Digest:
    briefer: Briefer
    period: float
    slack: SlackPoster | None = None
    grafana: GrafanaAnnotator | None = None
    channels: RedisChannels | None = None
    reports_dir: Path | None = None

    async def run(self, at: float) -> tuple[Briefing, dict[str, str]]:
        """The briefing and each output's outcome ("ok", "kept for later", or the error's type)."""
        b = await self.briefer.brief(at, self.period)
        outcomes: dict[str, str] = {}
        headline = b.text.split("\n\n", 2)[1] if "\n\n" in b.text else b.text
        steps = {
            "context_report": self._report(b, at) if self.reports_dir else None,
            "slack": self.slack.post(b.text, headline) if self.slack else None,
            "grafana": self.grafana.annotate(b.start, b.end, b.text) if self.grafana else None,
            "redis": self.channels.publish("reports", b.to_json()) if self.channels else None,
        }
        for name, step in steps.items():
            if step is None:
                continue
            try:
                result = await step
                outcomes[name] = "kept for later" if result is False else "ok"
            except Exception as exc:  # one output failing never stops the others
                log.warning("digest output %s failed: %s", name, type(exc).__name__)
                outcomes[name] = f"failed: {type(exc).__name__}"
        return b, outcomes

    async def _report(self, b: Briefing, at: float) -> Path:
        assert self.reports_dir is not None
        return write_context_report(self.reports_dir, at, b.text + "\n" + evidence_appendix(b))
