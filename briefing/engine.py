"""The briefing engine: series, incidents and advice in, ranked items out. Pure — no clock, no I/O.

``llm-sre brief`` runs it once on freshly gathered data, the watch runs its detection part every
few minutes, and the backtest runs it hour by hour on a week fetched once; all see the same code.

    items = brief(Inputs(at=now, period=86400, series=fetched, incidents=views))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from briefing.forecast import DAY, project, project_mean
from briefing.items import Advice, Briefing, EarlyWarning, Evidence, Issue, Missing, Trend
from briefing.series import Series, subject_of
from briefing.specs import FORECASTS, TRENDS, ForecastSpec, TrendSpec
from briefing.trends import compare
from briefing.units import duration, show

SEVERITY_WEIGHT = {"critical": 3.0, "warning": 2.0, "info": 1.0}
MIN_FIRING = 300.0  # an incident counts for at least five minutes, however short


@dataclass(frozen=True)
class IncidentView:
    """What the engine needs of a stored incident (the store's own type stays at the edge)."""

    alertname: str
    service: str
    severity: str
    starts_at: float
    ends_at: float | None  # None while firing


@dataclass(frozen=True)
class Config:
    horizon: float = 3 * DAY  # early warnings further out than this are not reported
    forecast_window: float = DAY
    trend_z: float = 3.0  # spreads away from the usual value before a trend is reported
    top: int = 3
    trends: tuple[TrendSpec, ...] = TRENDS
    forecasts: tuple[ForecastSpec, ...] = FORECASTS

    @property
    def lookback(self) -> float:
        """How far back forecast series are fetched: the fit, or the longest trailing-mean window."""
        return max(self.forecast_window, *(s.window for s in self.forecasts))


@dataclass(frozen=True)
class Inputs:
    at: float
    period: float
    # By spec name; trend series reach back ``period`` + 7 days, forecast series one window.
    series: Mapping[str, Sequence[Series]] = field(default_factory=dict)
    incidents: Sequence[IncidentView] = ()
    advice: Sequence[Advice] = ()
    missing: Sequence[Missing] = ()


def top_issues(incidents: Sequence[IncidentView], start: float, end: float, top: int) -> tuple[Issue, ...]:
    """Incidents overlapping the period, grouped by alert and service, by severity x duration x repeats."""
    groups: dict[tuple[str, str], list[IncidentView]] = defaultdict(list)
    for i in incidents:
        if i.starts_at < end and (i.ends_at is None or i.ends_at > start):
            groups[(i.alertname, i.service)].append(i)
    issues = []
    for (alertname, service), found in groups.items():
        firing = sum(max(MIN_FIRING, min(end, i.ends_at or end) - max(start, i.starts_at)) for i in found)
        severity = max((i.severity for i in found), key=lambda s: SEVERITY_WEIGHT.get(s, 1.0))
        impact = SEVERITY_WEIGHT.get(severity, 1.0) * (firing / 3600) * len(found)
        value = f"{len(found)} incident(s), {duration(firing)} firing, severity {severity}"
        issues.append(
            Issue(service, alertname, severity, len(found), round(firing), round(impact, 2),
                  Evidence(f"store: incidents alertname={alertname} service={service}", value, start, end))
        )  # fmt: skip
    return tuple(sorted(issues, key=lambda i: (-i.impact, i.alertname, i.subject))[:top])


def trends(inputs: Inputs, config: Config) -> tuple[Trend, ...]:
    found = []
    for spec in config.trends:
        for s in inputs.series.get(spec.name, ()):
            c = compare(s, inputs.at, inputs.period)
            if c is None or abs(c.today - c.usual) < spec.min_change or abs(c.z) < config.trend_z:
                continue
            direction = "up" if c.z > 0 else "down"
            if spec.bad not in ("both", direction):
                continue
            value = (
                f"{show(c.today, spec.unit)} over the period, usually {show(c.usual, spec.unit)} "
                f"(spread {show(c.spread, spec.unit)} over {c.days} previous days)"
            )
            found.append(
                Trend(subject_of(spec.subject, s.labels), spec.title, c.today, c.usual, c.spread, direction,
                      dict(s.labels), spec.alerts,
                      Evidence(spec.expr, value, inputs.at - inputs.period, inputs.at))
            )  # fmt: skip
    return tuple(sorted(found, key=lambda t: -abs(t.today - t.usual) / t.spread))


def early_warnings(inputs: Inputs, config: Config) -> tuple[EarlyWarning, ...]:
    found = []
    for spec in config.forecasts:
        for s in inputs.series.get(spec.name, ()):
            times, values = s.window(inputs.at - config.lookback, inputs.at)
            if spec.window:
                p = project_mean(times, values, spec.limit, inputs.at, spec.window, config.horizon,
                                 window=config.forecast_window)  # fmt: skip
                now = f"{fmt_ratio(p.current)} now (mean over {duration(spec.window)})" if p else ""
            else:
                p = project(times, values, spec.limit, inputs.at, window=config.forecast_window)
                now = f"{fmt_ratio(p.current)} now (fitted)" if p else ""
            if p is None or p.seconds_to_limit > config.horizon:
                continue
            value = (
                f"{now}, rising {fmt_ratio(p.slope * 3600)} per hour; "
                f"reaches {fmt_ratio(spec.limit)} in {duration(p.seconds_to_limit)}"
            )
            labels = {k: s.labels[k] for k in spec.labels if k in s.labels}
            found.append(
                EarlyWarning(subject_of(spec.subject, s.labels), spec.name, spec.limit, spec.limit_text,
                             p.current, p.eta, round(p.seconds_to_limit), labels, spec.alerts,
                             Evidence(spec.expr, value, inputs.at - config.forecast_window, inputs.at))
            )  # fmt: skip
    return tuple(sorted(found, key=lambda w: w.eta))


def fmt_ratio(value: float) -> str:
    return f"{value:.4g}"


def brief(inputs: Inputs, config: Config | None = None) -> Briefing:
    """Every section's items; the text is filled in later (deterministic or grounded LLM prose)."""
    config = config or Config()
    start = inputs.at - inputs.period
    return Briefing(
        start=start,
        end=inputs.at,
        top_issues=top_issues(inputs.incidents, start, inputs.at, config.top),
        trends=trends(inputs, config),
        early_warnings=early_warnings(inputs, config),
        efficiency=tuple(inputs.advice),
        missing=tuple(inputs.missing),
    )
