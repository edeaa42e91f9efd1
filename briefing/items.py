"""What a briefing is made of: plain frozen values, turned into JSON only at the edge.

Every item carries its :class:`Evidence` (the PromQL or store read, the value and the time range),
so each number in the text can be traced back and the grounding check has something to compare to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(ts: float) -> str:
    """RFC 3339 in UTC with a ``Z``, the shape the Redis reports use."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Evidence:
    query: str  # a PromQL expression or the store read that produced the value
    value: str
    start: float
    end: float

    def to_json(self) -> dict[str, str]:
        return {"query": self.query, "value": self.value, "start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True)
class Issue:
    """Incidents of one alert and service in the period, ranked by severity x duration x repeats."""

    subject: str
    alertname: str
    severity: str
    repeats: int
    firing_seconds: float
    impact: float
    evidence: Evidence


@dataclass(frozen=True)
class Trend:
    """A key series outside the spread of the same hours on the previous days."""

    subject: str
    metric: str
    today: float
    usual: float
    spread: float
    direction: str  # "up" or "down"
    labels: Mapping[str, str]
    alerts: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True)
class EarlyWarning:
    """A series projected to reach its limit within the horizon."""

    subject: str
    metric: str
    limit: float
    limit_text: str
    current: float
    eta: float  # Unix time the projection reaches the limit
    seconds_to_limit: float
    labels: Mapping[str, str]
    alerts: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True)
class Advice:
    subject: str
    kind: str
    text: str
    evidence: Evidence


@dataclass(frozen=True)
class Missing:
    """A section that could not be built, and why: a briefing never pretends to be complete."""

    section: str
    reason: str


@dataclass(frozen=True)
class LLMReport:
    model: str | None
    accepted: bool
    reason: str  # why the deterministic text was used ("" when accepted)
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    grounded_ratio: float | None = None


@dataclass(frozen=True)
class Briefing:
    start: float
    end: float
    top_issues: tuple[Issue, ...] = ()
    trends: tuple[Trend, ...] = ()
    early_warnings: tuple[EarlyWarning, ...] = ()
    efficiency: tuple[Advice, ...] = ()
    missing: tuple[Missing, ...] = ()
    text: str = ""
    llm: LLMReport = field(default_factory=lambda: LLMReport(None, False, "not run"))

    @property
    def quiet(self) -> bool:
        return not (self.top_issues or self.trends or self.early_warnings or self.efficiency)

    def to_json(self) -> dict[str, Any]:
        def item(obj: Any) -> dict[str, Any]:
            data = asdict(obj)
            data["evidence"] = obj.evidence.to_json()
            if "eta" in data:
                data["eta"] = iso(data["eta"])
            if "labels" in data:
                data["labels"] = dict(data["labels"])
            return data

        return {
            "type": "briefing",
            "period": {"start": iso(self.start), "end": iso(self.end)},
            "top_issues": [item(i) for i in self.top_issues],
            "trends": [item(t) for t in self.trends],
            "early_warnings": [item(w) for w in self.early_warnings],
            "efficiency": [item(a) for a in self.efficiency],
            "missing": [asdict(m) for m in self.missing],
            "text": self.text,
            "llm": asdict(self.llm),
        }
