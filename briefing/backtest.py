"""Proof of the proactive claim: run the engine hour by hour over past data and check, for every alert
that fired, whether an early warning or a trend named the same subject before it — and how many
warnings never came true.

The week is fetched once and sliced per hour (the engine is pure), so a 7-day backtest is 168 engine
runs on memory, not 168 rounds of queries. Fired alerts come from Prometheus' ``ALERTS`` series, or —
for backfilled data, where no rule ever ran — from replaying the shipped alerting rules' expressions
with their ``for`` durations.

    report = await backtest(Prometheus(url), start, end)
    print(report.text())
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.engine import Config, Inputs, early_warnings, trends
from briefing.forecast import DAY
from briefing.gather import HISTORY_DAYS, fetch_series
from briefing.items import iso
from briefing.prometheus import Prometheus
from briefing.series import Series
from briefing.units import duration
from llm_sre.rules_cli import alert_rules

HOUR = 3600.0
# Alerts not about a subject a briefing can foresee.
IGNORED_ALERTS = frozenset({"Watchdog"})


@dataclass(frozen=True)
class FiredAlert:
    alertname: str
    labels: Mapping[str, str]
    at: float
    until: float  # last moment it was firing in the window


@dataclass(frozen=True)
class Detection:
    at: float
    kind: str  # "early_warning" or "trend"
    subject: str
    metric: str
    labels: Mapping[str, str]
    alerts: tuple[str, ...]
    eta: float | None = None


@dataclass(frozen=True)
class Outcome:
    alert: FiredAlert
    first: Detection | None  # the earliest matching detection before the alert

    @property
    def lead(self) -> float | None:
        return self.alert.at - self.first.at if self.first else None


@dataclass(frozen=True)
class Episode:
    """Consecutive hourly detections of one (kind, subject, metric)."""

    detections: tuple[Detection, ...]
    confirmed_by: FiredAlert | None
    truth: float | None = None  # when the forecast quantity really reached its limit

    @property
    def first(self) -> Detection:
        return self.detections[0]

    def errors(self) -> list[float]:
        """Per hourly warning: |ETA − the true crossing| / how far ahead of it the warning was."""
        if self.truth is None:
            return []
        return [abs(d.eta - self.truth) / (self.truth - d.at)
                for d in self.detections if d.eta is not None and self.truth > d.at]  # fmt: skip

    @property
    def eta_error(self) -> float | None:
        """The error of the episode's first warning (the one that gives the lead)."""
        errors = self.errors()
        return errors[0] if errors and self.first.at < (self.truth or 0) else None


@dataclass
class Report:
    start: float
    end: float
    outcomes: list[Outcome] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)

    @property
    def days(self) -> float:
        return (self.end - self.start) / DAY

    def _unconfirmed(self, kind: str) -> list[Episode]:
        # A warning whose ETA lies beyond the window can still come true: pending, not false.
        return [e for e in self.episodes if e.first.kind == kind and e.confirmed_by is None
                and (e.detections[-1].eta or 0) <= self.end]  # fmt: skip

    @property
    def false_warnings(self) -> list[Episode]:
        return self._unconfirmed("early_warning")

    @property
    def unconfirmed_trends(self) -> list[Episode]:
        return self._unconfirmed("trend")

    def to_json(self) -> dict[str, Any]:
        return {
            "window": {"start": iso(self.start), "end": iso(self.end), "days": round(self.days, 2)},
            "alerts": [
                {"alertname": o.alert.alertname, "labels": dict(o.alert.labels), "fired": iso(o.alert.at),
                 "flagged": o.first is not None, "by": o.first.kind if o.first else None,
                 "subject": o.first.subject if o.first else None,
                 "lead_seconds": round(o.lead) if o.lead is not None else None}
                for o in self.outcomes
            ],
            "early_warnings": [
                {"subject": e.first.subject, "metric": e.first.metric, "first": iso(e.first.at),
                 "eta": iso(e.first.eta) if e.first.eta else None,
                 "came_true": e.confirmed_by.alertname if e.confirmed_by else None,
                 "eta_error": round(e.eta_error, 3) if e.eta_error is not None else None}
                for e in self.episodes if e.first.kind == "early_warning"
            ],
            "false_warnings": len(self.false_warnings),
            "false_warnings_per_day": round(len(self.false_warnings) / self.days, 3),
            "unconfirmed_trends": len(self.unconfirmed_trends),
        }  # fmt: skip

    def text(self) -> str:
        lines = [f"Backtest {iso(self.start)} → {iso(self.end)} ({self.days:.1f} days)", ""]
        for o in self.outcomes:
            subject = ",".join(f"{k}={v}" for k, v in sorted(o.alert.labels.items()) if k != "alertname")
            how = (f"flagged {duration(o.lead or 0)} before by {o.first.kind} on {o.first.subject}"
                   if o.first else "NOT flagged before it fired")  # fmt: skip
            lines.append(f"- {o.alert.alertname} {{{subject}}} fired {iso(o.alert.at)}: {how}")
        for e in self.episodes:
            if e.first.kind == "early_warning" and e.eta_error is not None:
                lines.append(f"- warning {e.first.subject} {e.first.metric} at {iso(e.first.at)}: ETA off by "
                             f"{e.eta_error:.0%} of the lead")  # fmt: skip
        lines.append(f"False early warnings: {len(self.false_warnings)} "
                     f"({len(self.false_warnings) / self.days:.2f}/day); "
                     f"trend flags never followed by an alert: {len(self.unconfirmed_trends)}")  # fmt: skip
        return "\n".join(lines) + "\n"


def matches(d: Detection, alert: FiredAlert) -> bool:
    """Same alert family and the same subject: every label both carry agrees, and there is one."""
    if alert.alertname not in d.alerts:
        return False
    shared = d.labels.keys() & alert.labels.keys()
    return bool(shared) and all(d.labels[k] == alert.labels[k] for k in shared)


def episodes_of(
    points: Sequence[tuple[float, Mapping[str, str]]], gap: float
) -> list[tuple[float, float, dict]]:
    """(first, last, labels) of each run of timestamps no more than ``gap`` apart."""
    runs: list[tuple[float, float, dict]] = []
    for t, labels in points:
        if runs and t - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], t, runs[-1][2])
        else:
            runs.append((t, t, dict(labels)))
    return runs


async def alerts_from_prometheus(prom: Prometheus, start: float, end: float, step: float) -> list[FiredAlert]:
    fired = []
    for s in await prom.range('ALERTS{alertstate="firing"}', start, end, step):
        labels = {k: v for k, v in s.labels.items() if k != "alertstate"}
        for first, last, _ in episodes_of([(t, labels) for t in s.times], 2 * step):
            fired.append(FiredAlert(labels.get("alertname", "?"), labels, first, last))
    return [f for f in fired if f.alertname not in IGNORED_ALERTS]


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(text[:-1]) * units[text[-1]] if text else 0.0


async def alerts_from_rules(
    prom: Prometheus, rule_files: Iterable[Path], start: float, end: float, step: float
) -> list[FiredAlert]:
    """When each shipped alert would have fired: its expression over the window, held for its ``for``."""
    rules = [r for r in alert_rules(list(rule_files)) if r["alert"] not in IGNORED_ALERTS]
    results = await asyncio.gather(*(prom.range(r["expr"], start, end, step) for r in rules))
    fired = []
    for rule, found in zip(rules, results, strict=True):
        hold = _seconds(rule.get("for", ""))
        for s in found:
            labels = {**s.labels, **rule.get("labels", {}), "alertname": rule["alert"]}
            for first, last, _ in episodes_of([(t, labels) for t in s.times], 1.5 * step):
                if last - first >= hold:
                    fired.append(FiredAlert(rule["alert"], labels, first + hold, last))
    return sorted(fired, key=lambda f: f.at)


def detect(
    series: Mapping[str, Sequence[Series]], start: float, end: float, config: Config, period: float = DAY,
    every: float = HOUR,
) -> list[Detection]:  # fmt: skip
    found = []
    at = start
    while at <= end:
        inputs = Inputs(at, period, series)
        for w in early_warnings(inputs, config):
            found.append(Detection(at, "early_warning", w.subject, w.metric, w.labels, w.alerts, w.eta))
        for t in trends(inputs, config):
            found.append(Detection(at, "trend", t.subject, t.metric, t.labels, t.alerts))
        at += every
    return found


def crossing(series: Mapping[str, Sequence[Series]], config: Config, d: Detection) -> float | None:
    """When the warned-about quantity really reached its limit after ``d`` (the truth an ETA is judged by)."""
    spec = next((s for s in config.forecasts if s.name == d.metric), None)
    if spec is None:
        return None
    for s in series.get(spec.name, ()):
        if any(s.labels.get(k) != v for k, v in d.labels.items()):
            continue
        if not spec.window:
            return s.first_at_or_above(spec.limit, d.at)
        for t in s.times[bisect_right(s.times, d.at) :]:
            mean = s.mean(t - spec.window, t)
            if mean is not None and mean >= spec.limit:
                return t
    return None


def score(
    detections: Sequence[Detection], fired: Sequence[FiredAlert], start: float, end: float,
    every: float = HOUR, truth: Callable[[Detection], float | None] | None = None,
) -> Report:  # fmt: skip
    report = Report(start, end)
    for alert in fired:
        before = [d for d in detections if d.at < alert.at and matches(d, alert)]
        report.outcomes.append(Outcome(alert, min(before, key=lambda d: d.at) if before else None))
    runs: dict[tuple[str, str, str], list[list[Detection]]] = {}
    for d in sorted(detections, key=lambda d: d.at):
        key = (d.kind, d.subject, d.metric)
        groups = runs.setdefault(key, [])
        if groups and d.at - groups[-1][-1].at <= 1.5 * every:
            groups[-1].append(d)
        else:
            groups.append([d])
    for groups in runs.values():
        for group in groups:
            # Came true: a matching alert fired after the warning began (by the end of the window), or
            # was still firing then (a warning about a limit already crossed is late, not false).
            later = [a for a in fired if a.until >= group[0].at and matches(group[0], a)]
            confirmed = min(later, key=lambda a: a.at) if later else None
            when = truth(group[0]) if truth and group[0].kind == "early_warning" else None
            report.episodes.append(Episode(tuple(group), confirmed, when))
    report.episodes.sort(key=lambda e: e.first.at)
    return report


async def backtest(
    prom: Prometheus, start: float, end: float, *, config: Config | None = None, step: float = 300.0,
    rule_files: Sequence[Path] | None = None, every: float = HOUR, period: float = DAY,
) -> Report:  # fmt: skip
    """``rule_files``: replay these rules for the fired alerts instead of reading ``ALERTS``."""
    config = config or Config()
    history = max(period + HISTORY_DAYS * DAY, config.lookback)
    specs = [(s.name, s.expr) for s in (*config.trends, *config.forecasts)]
    series = await fetch_series(prom, specs, start - history, end, step)
    if rule_files:
        fired = await alerts_from_rules(prom, rule_files, start, end, step)
    else:
        fired = await alerts_from_prometheus(prom, start, end, step)
    detections = detect(series, start, end, config, period, every)
    return score(detections, fired, start, end, every, lambda d: crossing(series, config, d))
