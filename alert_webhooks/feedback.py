"""On-call feedback on a summary (Slack buttons 👍 / 👎 / "wrong cause") and how it is used.

The buttons are on the incident message (:mod:`alert_webhooks.delivery.slack`); Slack posts the
click to ``POST /api/v1/slack/interactions`` (:mod:`alert_webhooks.routes.feedback`), which stores
the choice on the incident (one per voter; a new click replaces the voter's earlier one). Later
analyses of the same alert read the recent incidents' feedback as :class:`Preferences`: a runbook
that earned 👍 ranks higher, one marked "wrong cause" is excluded, and past cases follow their
votes the same way.

    vote = parse_interaction(form_body)             # FeedbackError: not a feedback click
    prefs = preferences(incidents_of_the_same_alert)
    factor = prefs.runbook_factor("redis-oom")      # None: excluded
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs

from alert_webhooks.incidents import Incident
from alert_webhooks.store import IncidentFilter, Store, call

ACTION_PREFIX = "llm_sre_feedback:"
CHOICES = {"helpful": "👍", "unhelpful": "👎", "wrong_cause": "wrong cause"}
SCORE = {"helpful": 1, "unhelpful": -1, "wrong_cause": 0}
RECENT = 200  # incidents of the same alert whose feedback is read
BOOST = 0.2  # per net vote, at most ±3 votes: feedback tips close calls, it does not override BM25

T = TypeVar("T")


class FeedbackError(ValueError):
    """The body is not a feedback button click (400)."""


@dataclass(frozen=True)
class Vote:
    incident_id: str
    choice: str
    voter: str  # a hash of the Slack team and user: enough to keep one vote each, nothing more


def parse_interaction(body: bytes) -> Vote:
    """The click in a Slack ``block_actions`` interaction (``payload=<json>``, form encoded)."""
    try:
        (raw,) = parse_qs(body.decode(), strict_parsing=True)["payload"]
        payload: dict[str, Any] = json.loads(raw)
        action = payload["actions"][0]
        action_id, incident_id = str(action["action_id"]), str(action["value"])
        user = payload["user"]
        who = f"{(payload.get('team') or {}).get('id', '')}:{user['id']}"
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise FeedbackError("expected a Slack block_actions payload") from exc
    choice = action_id.removeprefix(ACTION_PREFIX)
    ours = action_id.startswith(ACTION_PREFIX) and choice in CHOICES
    if payload.get("type") != "block_actions" or not ours:
        raise FeedbackError("not an llm-sre feedback button")
    if not incident_id or len(incident_id) > 200:
        raise FeedbackError("bad incident id")
    return Vote(incident_id, choice, hashlib.sha256(who.encode()).hexdigest()[:16])


@dataclass(frozen=True)
class Preferences:
    """Net votes on runbooks and past incidents, and what on-call said was the wrong cause."""

    runbooks: Counter[str] = field(default_factory=Counter)
    cases: Counter[str] = field(default_factory=Counter)
    wrong: frozenset[str] = frozenset()

    def runbook_factor(self, doc_id: str) -> float | None:
        """Multiplier for a runbook's retrieval score; ``None`` when marked the wrong cause."""
        if doc_id in self.wrong:
            return None
        return 1.0 + BOOST * max(-3, min(3, self.runbooks[doc_id]))

    def rank(self, items: Iterable[T], key: Any) -> list[T]:
        """Past cases: the wrong and the net-negative out, the 👍 first (stable otherwise)."""
        kept = [i for i in items if key(i) not in self.wrong and self.cases[key(i)] >= 0]
        return sorted(kept, key=lambda i: -self.cases[key(i)])


def preferences(incidents: Sequence[Incident]) -> Preferences:
    runbooks: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    wrong: set[str] = set()
    for incident in incidents:
        if not incident.feedback or incident.analysis is None:
            continue
        refs = incident.analysis.references
        runbook = next((r.removeprefix("runbook:") for r in refs if r.startswith("runbook:")), None)
        for choice in incident.feedback.values():
            cases[incident.id] += SCORE[choice]
            if runbook:
                runbooks[runbook] += SCORE[choice]
            if choice == "wrong_cause":
                wrong.update({incident.id, runbook} - {None})  # type: ignore[arg-type]
    return Preferences(runbooks, cases, frozenset(wrong))


class Loader:
    """What :class:`~alert_webhooks.analysis.analyst.IncidentAnalyst` calls for an alert's feedback.

    Reading an alert's last incidents for every analysis would cost a storm dearly (all of them
    share one alert name), so each alert's preferences are kept ``ttl`` seconds; a click forgets
    them at once in this process (other processes sharing a Redis store see it within ``ttl``).
    """

    def __init__(self, store: Store, ttl: float = 30.0) -> None:
        self._store, self._ttl = store, ttl
        self._cache: dict[str, tuple[float, Preferences]] = {}

    async def __call__(self, alertname: str) -> Preferences:
        hit = self._cache.get(alertname)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        where = IncidentFilter(alertname=alertname)
        incidents, _ = await call(self._store, self._store.incidents, where, RECENT, 0)
        prefs = preferences(incidents)
        self._cache[alertname] = (time.monotonic() + self._ttl, prefs)
        return prefs

    def forget(self, alertname: str) -> None:
        self._cache.pop(alertname, None)
