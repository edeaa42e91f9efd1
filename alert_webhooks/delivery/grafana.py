"""One Grafana annotation per incident, through grafana-client.

    notifier = GrafanaNotifier(GrafanaApi.from_url(url, credential=TokenAuth(token)))

The annotation starts at the incident's first ``startsAt`` and becomes a region when the resolve
sets ``timeEnd``. grafana-client's ``partial_update_annotation`` always sends ``tags`` (``[]`` by
default), and Grafana's PATCH replaces tags when they are sent (REFERENCE §3), so every update passes
the full tag list again.

Exactly one annotation even across a crash: before creating, the notifier looks for an annotation
already carrying the incident's tag (a create whose response was lost to a SIGKILL) and adopts it.
A create slower than the sink timeout can still be in flight during that lookup and land after
our second create; so after creating, the notifier looks again and keeps only the oldest
annotation of the incident, deleting the others.

Fenced like the Slack POST: before creating, the notifier yields a ``pending:<time>`` mark, which
the worker stores only while its claim is current. A replica whose lease passed stops there; one
that still held it has its create in flight, and the successor that finds the mark and no
annotation waits (a retry) until the create has landed or its timeout has passed, then adopts or
creates. A create Grafana answered, even with an error, clears the mark (only an unanswered one can
still land). (Without the mark, a create stalled past the lease and one by the successor both landed.)
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaTimeoutError

from alert_webhooks.delivery import DeliveryError, PermanentDeliveryError
from alert_webhooks.delivery.render import (
    alert_count_text,
    dashboard_uid,
    incident_tag,
    panel_id,
    quote_line,
    tags,
    view,
)
from alert_webhooks.incidents import DeliveryState, Incident
from exporters.loki import retry_after

TEXT_MAX = 10_000
PENDING = "pending:"


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def in_doubt(exc: Exception) -> bool:
    """A create that got no answer (timeout, connection lost) may still land."""
    return isinstance(exc, DeliveryError) and isinstance(
        exc.__cause__, GrafanaTimeoutError | niquests.RequestException | OSError
    )


def annotation_text(incident: Incident) -> str:
    """Grafana renders annotation text as HTML: everything from outside is escaped here, the sink."""
    v = view(incident)
    lines = [f"[{v.status.upper()}] {v.title}: {v.summary}"]
    if v.specialist:
        lines.append(v.specialist)
    if v.root_cause:
        lines.append(f"Root cause: {v.root_cause}")
    lines.extend(f"- {a}" for a in v.actions)
    if v.evidence:
        lines.append("Evidence:")
        lines.extend(f"- {quote_line(q)}" for q in v.evidence)
    lines.append(f"Incident {incident.id} · alerts: {alert_count_text(v)}")
    text = "\n".join(html.escape(line, quote=False) for line in lines)
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def annotation(incident: Incident) -> dict[str, Any]:
    """The annotation fields as Grafana's API names them (also what the outbox records)."""
    return {
        "dashboardUID": dashboard_uid(incident),
        "panelId": panel_id(incident),
        "time": _ms(incident.starts_at),
        "timeEnd": _ms(incident.ends_at) if incident.status == "resolved" else None,
        "tags": tags(incident),
        "text": annotation_text(incident),
    }


class GrafanaNotifier:
    sink = "grafana"
    metric_sink = "grafana"

    def __init__(
        self, api: GrafanaApi, in_flight: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        """``in_flight``: the longest a create can take (the sink timeout)."""
        self._api = api
        self._in_flight = in_flight
        self._clock = clock
        # grafana-client raises with the parsed body only, so a 429's Retry-After would be lost;
        # a response hook on its niquests session keeps the header for the thread that made the call.
        self._last = threading.local()
        api.client.s.hooks["response"].append(self._remember_retry_after)

    def _remember_retry_after(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._last.retry_after = response.headers.get("Retry-After")
        return response

    async def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._call_sync, fn, kwargs)

    def _call_sync(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        self._last.retry_after = None
        try:
            return fn(**kwargs)
        except GrafanaClientError as exc:
            if exc.status_code == 429:
                raise DeliveryError("grafana: HTTP 429", retry_after(self._last.retry_after)) from exc
            raise PermanentDeliveryError(f"grafana: HTTP {exc.status_code}") from exc
        except GrafanaException as exc:  # 5xx and timeouts
            raise DeliveryError(f"grafana: {type(exc).__name__} {exc.status_code}") from exc
        except (niquests.RequestException, OSError) as exc:
            raise DeliveryError(f"grafana: {type(exc).__name__}") from exc

    async def _mine(self, incident: Incident) -> list[int]:
        """Ids of the annotations carrying the incident's tag, oldest first."""
        tag = incident_tag(incident.id)
        found = await self._call(self._api.annotations.find_annotations, tags=[tag], limit=100)
        # Grafana filters by tag already; checking again costs nothing and guards against a proxy or
        # an older Grafana that ignores the filter.
        return sorted(
            int(a["id"]) for a in found or [] if isinstance(a, dict) and tag in (a.get("tags") or [])
        )

    async def _existing(self, incident: Incident) -> str | None:
        mine = await self._mine(incident)
        return str(mine[0]) if mine else None

    async def _keep_oldest(self, incident: Incident, created: int) -> str:
        mine = await self._mine(incident) or [created]
        for extra in mine[1:]:
            await self._call(self._api.annotations.delete_annotations_by_id, annotations_id=extra)
        return str(mine[0])

    async def deliver(self, incident: Incident, state: DeliveryState) -> AsyncIterator[DeliveryState]:
        body = annotation(incident)
        pending = state.ref is not None and state.ref.startswith(PENDING)
        ref = (None if pending else state.ref) or await self._existing(incident)
        if ref is None and pending:
            assert state.ref is not None
            wait = float(state.ref.removeprefix(PENDING)) + self._in_flight - self._clock()
            if wait > 0:
                raise DeliveryError("grafana: an earlier create may still be in flight", retry_after=wait)
        if ref is None:
            # Stored fenced before the POST: a holder that lost its claim stops here.
            yield DeliveryState(f"{PENDING}{self._clock()!r}", state.revision, state.status)
            try:
                created = await self._call(
                    self._api.annotations.add_annotation,
                    dashboard_uid=body["dashboardUID"],
                    panel_id=body["panelId"],
                    time_from=body["time"],
                    time_to=body["timeEnd"],
                    tags=body["tags"],
                    text=body["text"],
                )
                created_id = int(created["id"])
            except Exception as exc:
                if not in_doubt(exc):  # Grafana answered: no create is in flight, the lookup decides
                    yield state
                raise
            yield DeliveryState(str(created_id), incident.revision, incident.status)
            ref = await self._keep_oldest(incident, created_id)
            if ref == str(created_id):
                return
            # The slow create won: it may show an older revision, so bring it up to date below.
        await self._call(
            self._api.annotations.partial_update_annotation,
            annotations_id=int(ref),
            time_from=body["time"],
            time_to=body["timeEnd"],
            tags=body["tags"],
            text=body["text"],
        )
        yield DeliveryState(ref, incident.revision, incident.status)
