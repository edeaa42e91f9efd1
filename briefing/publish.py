"""Where briefings and reports go: Redis channels, Slack, a Grafana annotation and a context report.

Each destination is independent: one failing never stops the others, and every text passes the
masker first (:func:`exporters.redact.redact`) — label values and incident names end up here.

Redis publishing keeps a bounded backlog: while Redis is down reports wait, in order, and go out
with the next successful publish; past the backlog the oldest are dropped and counted
(``llm_sre_reports_dropped_total``), so a long outage costs memory it can bound, not the process.

    channels = RedisChannels(redis.asyncio.Redis.from_url(url), metrics, backlog=288)
    await channels.publish("reports", {"type": "container_health", ...})
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import redis.asyncio as aioredis
from grafana_client import GrafanaApi
from redis.exceptions import RedisError
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from alert_webhooks.delivery.slack import SECTION_MAX, escape
from exporters.catalogue import MetricSet
from exporters.redact import redact

log = logging.getLogger(__name__)
Channel = Literal["reports", "alerts"]
MAX_BLOCKS = 50


def masked(payload: Any) -> Any:
    """Every string of a JSON-able value through the masker."""
    if isinstance(payload, str):
        return redact(payload)
    if isinstance(payload, Mapping):
        return {k: masked(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [masked(v) for v in payload]
    return payload


class RedisChannels:
    def __init__(
        self, client: aioredis.Redis, metrics: MetricSet, *, backlog: int = 288,
        names: Mapping[Channel, str] | None = None,
    ) -> None:  # fmt: skip
        self.client, self.metrics, self.backlog = client, metrics, backlog
        self.names = dict(names or {"reports": "slm.reports", "alerts": "slm.alerts"})
        self._pending: deque[tuple[Channel, str]] = deque()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def publish(self, channel: Channel, payload: Mapping[str, Any]) -> bool:
        """True when this and every earlier report reached Redis; False when they wait in the backlog."""
        self._pending.append((channel, json.dumps(masked(payload), sort_keys=True)))
        while len(self._pending) > self.backlog:
            dropped, _ = self._pending.popleft()
            self.metrics["llm_sre_reports_dropped_total"].labels(channel=dropped).inc()
        while self._pending:
            kind, body = self._pending[0]
            try:
                await self.client.publish(self.names[kind], body)
            except (RedisError, OSError) as exc:
                log.warning("redis publish failed (%s); %d report(s) kept", type(exc).__name__, self.pending)
                return False
            self._pending.popleft()
            self.metrics["llm_sre_reports_published_total"].labels(channel=kind).inc()
        return True

    async def close(self) -> None:
        await self.client.aclose()


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#+\s+(.+)$", re.MULTILINE)


def slack_blocks(markdown: str) -> list[dict[str, Any]]:
    """Markdown → mrkdwn sections of at most 3000 characters, escaped (REFERENCE §5)."""
    text = _HEADING.sub(r"*\1*", _BOLD.sub(r"*\1*", escape(markdown)))
    blocks: list[dict[str, Any]] = []
    chunk = ""
    for paragraph in text.split("\n\n"):
        while len(paragraph) > SECTION_MAX:  # one very long section: cut it
            blocks.append(_section(paragraph[:SECTION_MAX]))
            paragraph = paragraph[SECTION_MAX:]
        if len(chunk) + len(paragraph) + 2 > SECTION_MAX:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n\n{paragraph}" if chunk else paragraph
    if chunk:
        blocks.append(_section(chunk))
    return blocks[:MAX_BLOCKS]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


class SlackPoster:
    """A bot token (``chat.postMessage``) or an incoming webhook, as the incident notifiers use them."""

    def __init__(self, client: WebClient | None = None, channel: str | None = None,
                 webhook: WebhookClient | None = None) -> None:  # fmt: skip
        self.client, self.channel, self.webhook = client, channel, webhook

    async def post(self, markdown: str, fallback: str) -> None:
        markdown, fallback = redact(markdown), escape(redact(fallback))[:SECTION_MAX]
        blocks = slack_blocks(markdown)
        if self.client is not None and self.channel:
            await asyncio.to_thread(self.client.chat_postMessage, channel=self.channel, text=fallback,
                                    blocks=blocks, unfurl_links=False)  # fmt: skip
        elif self.webhook is not None:
            resp = await asyncio.to_thread(self.webhook.send, text=fallback, blocks=blocks)
            if resp.status_code >= 300:
                raise RuntimeError(f"slack webhook answered {resp.status_code}")


class GrafanaAnnotator:
    def __init__(self, api: GrafanaApi, tags: tuple[str, ...] = ("llm-sre", "briefing")) -> None:
        self.api, self.tags = api, list(tags)

    async def annotate(self, start: float, end: float, text: str) -> None:
        await asyncio.to_thread(
            self.api.annotations.add_annotation,
            time_from=int(start * 1000), time_to=int(end * 1000), tags=self.tags, text=redact(text),
        )  # fmt: skip


def write_context_report(directory: Path, at: float, markdown: str) -> Path:
    """``context_reports/YYYY-MM-DD.md`` (local date), replaced atomically so a reader never sees half."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{datetime.fromtimestamp(at).astimezone():%Y-%m-%d}.md"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".report-", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(redact(markdown))
    os.replace(tmp, path)
    return path
