"""Slack delivery through slack-sdk: an incoming webhook, or a bot token with ``chat.postMessage``.

    notifier = SlackWebhookNotifier(WebhookClient(url))     # one message, one resolved follow-up
    notifier = SlackBotNotifier(WebClient(token), "#ops")   # edits the message, threads details

An incoming webhook cannot edit what it posted (REFERENCE §5), so it posts the incident once and one
resolved follow-up; the bot edits the message on every revision and threads the resolution.
slack-sdk's own retries are left off: retries are the worker's, durable and visible in metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from alert_webhooks.delivery import DeliveryError, PermanentDeliveryError
from alert_webhooks.delivery.render import View, alert_count_text, clip, quote_line, view
from alert_webhooks.feedback import ACTION_PREFIX, CHOICES
from alert_webhooks.incidents import DeliveryState, Incident
from exporters.loki import retry_after

log = logging.getLogger(__name__)

# Block Kit limits (REFERENCE §5); the header limit is Slack's 150 plain-text characters.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FALLBACK_MAX = 3000
MAX_ACTIONS = 10
EMOJI = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}
# Bot messages carry the incident id as message metadata, so a post whose answer was lost (crash)
# can be found again instead of posted twice.
EVENT_TYPE = "llm_sre_incident"
RESOLVED_EVENT = "llm_sre_incident_resolved"
PENDING = "pending:"
RESOLVING = "resolving"


def escape(text: str) -> str:
    """Neutralise Slack control sequences (``<!channel>``, ``<@U…>``, links) in untrusted text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    # Clip after escaping so an entity is never cut in half past the limit; verbatim stops Slack
    # from turning bare names or URLs into mentions and links.
    return {"type": "mrkdwn", "text": clip(text, limit), "verbatim": True}


def fallback_text(v: View) -> str:
    return clip(
        escape(f"[{v.status.upper()}] {v.title} ({v.severity}) {v.service}: {v.summary}"), FALLBACK_MAX
    )


def message(incident: Incident, grafana_url: str | None = None) -> dict[str, Any]:
    """The ``{text, blocks}`` body for an incident: within Block Kit limits, escaped and masked."""
    v = view(incident, grafana_url)
    header = f"{v.status.upper()}: {v.title}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(header, HEADER_MAX), "emoji": True}},
        {"type": "section", "text": _mrkdwn(f"{EMOJI.get(v.status, '')} {escape(v.summary)}")},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*{name}*\n{escape(value)}", FIELD_MAX)
                for name, value in (
                    ("Severity", v.severity),
                    ("Service", v.service or "-"),
                    ("Status", v.status),
                    ("Alerts", alert_count_text(v)),
                )
            ],
        },
    ]
    if v.specialist:
        blocks.append({"type": "section", "text": _mrkdwn(escape(v.specialist))})
    if v.root_cause:
        blocks.append({"type": "section", "text": _mrkdwn(f"*Root cause*\n{escape(v.root_cause)}")})
    if v.actions:
        steps = "\n".join(f"• {escape(a)}" for a in v.actions[:MAX_ACTIONS])
        blocks.append({"type": "section", "text": _mrkdwn(f"*Immediate actions*\n{steps}")})
    if v.evidence:
        quotes = "\n".join(f"• {escape(quote_line(q))}" for q in v.evidence)
        blocks.append({"type": "section", "text": _mrkdwn(f"*Evidence*\n{quotes}")})
    blocks.append({"type": "context", "elements": [_mrkdwn(f"incident {escape(incident.id)}")]})
    if v.links:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": name}, "url": clip(url, 3000)}
                    for name, url in v.links
                ],
            }
        )
    blocks.append(feedback_buttons(incident.id))
    return {"text": fallback_text(v), "blocks": blocks}


def feedback_buttons(incident_id: str) -> dict[str, Any]:
    """👍 / 👎 / "wrong cause": Slack posts the click to ``/api/v1/slack/interactions``."""
    return {
        "type": "actions",
        "block_id": "llm_sre_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": f"{ACTION_PREFIX}{choice}",
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": incident_id,
            }
            for choice, label in CHOICES.items()
        ],
    }


def resolved_text(incident: Incident) -> str:
    ends = incident.ends_at.isoformat() if incident.ends_at else "now"
    return escape(
        f"Resolved: {incident.alertname} ({incident.service or '-'}) at {ends}, incident {incident.id}"
    )


def _retry_after(headers: Any) -> float | None:
    raw = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return retry_after(raw)


def _check(status: int, headers: Any, what: str) -> None:
    if status == 429 or status >= 500:
        raise DeliveryError(f"slack {what}: HTTP {status}", _retry_after(headers))
    if status >= 400:
        raise PermanentDeliveryError(f"slack {what}: HTTP {status}")


class _Unsure(DeliveryError):
    """The POST may or may not have reached Slack (a timeout, a connection lost mid-request)."""


#: What to do about a message that may already have been posted (Settings.slack_webhook_uncertain)
RESEND, SKIP = "resend", "skip"
WEBHOOK_PENDING = "webhook:pending"  # a POST is (or was, when we crashed) in flight
WEBHOOK_UNCERTAIN = "webhook:uncertain"  # skipped by the "skip" policy: this message may be lost
REPEAT_NOTE = "Possible repeat: re-sent after a restart or timeout, an earlier copy may exist."


class SlackWebhookNotifier:
    """One message per incident, then one resolved follow-up.

    Exactly once is impossible here, not just unimplemented: Slack's incoming webhooks take no
    idempotency key and cannot read the channel, and a POST and our record of it cannot be one atomic
    step — a crash (or a timeout) after Slack accepted the POST and before we stored that looks
    exactly like one before the POST. So a ``webhook:pending`` mark is stored before each POST and
    cleared when Slack answers (even with an error: an answer means we know what happened). Finding
    the mark still set means "maybe posted", and ``uncertain`` picks the trade-off:

    * ``resend`` (default, at-least-once): post again, with a note that it may be a repeat; a page
      is never lost.
    * ``skip`` (at-most-once): do not post again; the incident's Slack delivery shows
      ``webhook:uncertain`` in the API and a warning is logged, so a lost page can be found.

    Either way the window is only the POSTs in flight at the crash (at most the worker concurrency).
    A Slack bot token (:class:`SlackBotNotifier`) has no such window.
    """

    sink = "slack"
    metric_sink = "slack"

    def __init__(
        self, client: WebhookClient, grafana_url: str | None = None, uncertain: str = RESEND
    ) -> None:
        self._client = client
        self._grafana_url = grafana_url
        self._uncertain = uncertain

    async def _post(self, body: dict[str, Any], what: str) -> None:
        try:
            resp = await asyncio.to_thread(self._client.send, **body)
            if resp.status_code == 400 and resp.body == "invalid_blocks" and "blocks" in body:
                # Whatever Slack disliked in the layout, the page must still go out: text only.
                resp = await asyncio.to_thread(self._client.send, text=body["text"])
        except OSError as exc:  # urllib's URLError, timeouts, refused connections
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            error = DeliveryError if refused else _Unsure  # refused: the request never left
            raise error(f"slack {what}: {type(exc).__name__}") from exc
        _check(resp.status_code, resp.headers, what)

    async def _once(
        self, incident: Incident, body: dict[str, Any], what: str, state: DeliveryState, done: DeliveryState
    ) -> AsyncIterator[DeliveryState]:
        """POST ``body`` behind a pending mark: yields the mark, then ``done`` — or ``state`` again
        when Slack answered with an error, so the retry knows this attempt posted nothing."""
        unsure = state.ref == WEBHOOK_PENDING  # an earlier attempt may have posted
        if unsure and self._uncertain == SKIP:
            log.warning("slack %s for incident %s may not have been posted; not re-sent", what, incident.id)
            yield DeliveryState(WEBHOOK_UNCERTAIN, done.revision, done.status)
            return
        if unsure:
            body = _with_note(body)
        else:
            yield DeliveryState(WEBHOOK_PENDING, state.revision, state.status)
        try:
            await self._post(body, what)
        except _Unsure:
            raise  # the mark stays: the retry treats this POST as "maybe posted"
        except (DeliveryError, PermanentDeliveryError):
            if not unsure:  # this attempt surely posted nothing (an earlier one still might have)
                yield state
            raise
        yield done

    async def deliver(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        first = state.ref is None or (state.ref == WEBHOOK_PENDING and state.status is None)
        if first:
            body = message(incident, self._grafana_url)
            done = DeliveryState("webhook", incident.revision, incident.status)
            async for step in self._once(incident, body, "post", state, done):
                yield step
        elif incident.status == "resolved" and state.status != "resolved":
            text = resolved_text(incident)
            body = {"text": text, "blocks": [{"type": "section", "text": _mrkdwn(text)}]}
            done = DeliveryState("webhook", incident.revision, "resolved")
            async for step in self._once(incident, body, "resolve", state, done):
                yield step
        else:
            # Nothing a webhook can edit: record that this revision needs no message.
            yield DeliveryState(state.ref, incident.revision, state.status)


def _with_note(body: dict[str, Any]) -> dict[str, Any]:
    note = {"type": "context", "elements": [_mrkdwn(f"_{REPEAT_NOTE}_")]}
    return {"text": f"{REPEAT_NOTE} {body['text']}", "blocks": [note, *body.get("blocks", [])]}


class SlackBotNotifier:
    sink = "slack"
    metric_sink = "slack"

    def __init__(self, client: WebClient, channel: str, grafana_url: str | None = None) -> None:
        self._client = client
        self._channel = channel
        self._grafana_url = grafana_url

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            try:
                return await asyncio.to_thread(getattr(self._client, method), **kwargs)
            except SlackApiError as exc:
                if exc.response.get("error") != "invalid_blocks" or "blocks" not in kwargs:
                    raise
                # As for the webhook: a layout Slack refuses must not stop the page; send text only.
                kwargs.pop("blocks")
                return await asyncio.to_thread(getattr(self._client, method), **kwargs)
        except SlackApiError as exc:
            _check(exc.response.status_code, exc.response.headers, method)
            # 200 with ok=false (channel_not_found, invalid_auth, ...): a retry will not fix it.
            raise PermanentDeliveryError(f"slack {method}: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise DeliveryError(f"slack {method}: {type(exc).__name__}") from exc

    async def _lookup(self, method: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Messages from ``conversations.history``/``replies`` with their metadata.

        Needs ``channels:history`` and ``SLACK_CHANNEL`` as a channel ID; without them Slack refuses,
        we find nothing and post again (at-least-once), exactly as a webhook would.
        """
        try:
            resp = await self._call(method, include_all_metadata=True, limit=200, **kwargs)
        except PermanentDeliveryError:
            return []
        return list(resp.get("messages") or [])

    async def _post(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        """Post the incident's message once, even across a crash between the POST and its record:
        a ``pending:<time>`` checkpoint goes first, and a pending attempt is looked up before posting."""
        if state.ref is not None:  # pending: an earlier attempt may have posted
            since = float(state.ref.removeprefix(PENDING)) - 1
            history = await self._lookup(
                "conversations_history", channel=self._channel, oldest=f"{since:.6f}"
            )
            found = _tagged(history, EVENT_TYPE, incident.id)
            if found is not None:
                status = found["metadata"]["event_payload"].get("status")
                yield DeliveryState(f"{self._channel}:{found['ts']}", 0, status)
                return
        yield DeliveryState(f"{PENDING}{time.time():.6f}", state.revision, None)
        resp = await self._call(
            "chat_postMessage",
            channel=self._channel,
            metadata=_metadata(EVENT_TYPE, incident),
            **message(incident, self._grafana_url),
        )
        yield DeliveryState(f"{resp['channel']}:{resp['ts']}", incident.revision, incident.status)

    async def _resolve(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        """The threaded resolution, once: the same pending-then-look-up dance as :meth:`_post`."""
        channel, ts = (state.ref or "").split(":", 1)
        if state.status == RESOLVING:
            replies = await self._lookup("conversations_replies", channel=channel, ts=ts)
            if _tagged(replies, RESOLVED_EVENT, incident.id) is not None:
                yield DeliveryState(state.ref, state.revision, "resolved")
                return
        yield DeliveryState(state.ref, state.revision, RESOLVING)
        await self._call(
            "chat_postMessage",
            channel=channel,
            thread_ts=ts,
            text=resolved_text(incident),
            metadata=_metadata(RESOLVED_EVENT, incident),
        )
        yield DeliveryState(state.ref, state.revision, "resolved")

    async def deliver(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        if state.ref is None or state.ref.startswith(PENDING):
            async for state in self._post(incident, state):  # noqa: B020 - the last one is where we are
                yield state
            if state.revision >= incident.revision:
                return
        if incident.status == "resolved" and state.status != "resolved":
            async for state in self._resolve(incident, state):  # noqa: B020
                yield state
        channel, ts = (state.ref or "").split(":", 1)
        await self._call("chat_update", channel=channel, ts=ts, **message(incident, self._grafana_url))
        yield DeliveryState(state.ref, incident.revision, incident.status)


def _metadata(event_type: str, incident: Incident) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "event_payload": {"incident_id": incident.id, "status": incident.status},
    }


def _tagged(messages: list[dict[str, Any]], event_type: str, incident_id: str) -> dict[str, Any] | None:
    for msg in messages:
        meta = msg.get("metadata") or {}
        if (
            meta.get("event_type") == event_type
            and (meta.get("event_payload") or {}).get("incident_id") == incident_id
        ):
            return msg
    return None
