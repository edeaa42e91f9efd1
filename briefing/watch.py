"""Between digests: early warnings and unusual trends as they appear, to ``slm.alerts`` and to the
``llm_sre_forecast_seconds_to_limit`` gauge (which the shipped ``ResourceLimitForecast`` alert reads,
so Alertmanager can page before the limit, not at it).

Each (kind, subject, metric) is announced once when it appears and again only after it has gone
away and come back, so a warning that holds for two days is one message, not two hundred.

    watch = Watch(prom, metrics, channels)
    await watch.check(at=time.time())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from briefing.engine import Config, Inputs, early_warnings, trends
from briefing.forecast import DAY
from briefing.gather import HISTORY_DAYS, fetch_series
from briefing.items import EarlyWarning, iso
from briefing.prometheus import Prometheus, PrometheusError
from briefing.publish import RedisChannels
from exporters.catalogue import MetricSet

Key = tuple[str, str, str]


@dataclass
class Watch:
    prom: Prometheus
    metrics: MetricSet
    channels: RedisChannels | None = None
    config: Config = field(default_factory=Config)
    period: float = DAY
    step: float = 300.0
    _active: set[Key] = field(default_factory=set)

    async def check(self, at: float) -> list[dict[str, Any]]:
        """Detect, update the gauge, announce what is new; returns the new messages."""
        try:
            series = await fetch_series(
                self.prom,
                [(s.name, s.expr) for s in self.config.forecasts],
                at - self.config.lookback,
                at,
                self.step,
            )
            series |= await fetch_series(
                self.prom,
                [(s.name, s.expr) for s in self.config.trends],
                at - self.period - HISTORY_DAYS * DAY,
                at,
                self.step,
            )
        except PrometheusError:
            return []  # the gauge keeps its last values; the digest names the outage
        inputs = Inputs(at, self.period, series)
        warnings, found_trends = early_warnings(inputs, self.config), trends(inputs, self.config)
        gauge = self.metrics["llm_sre_forecast_seconds_to_limit"]
        gauge.clear()
        for w in warnings:
            gauge.labels(subject=w.subject, metric=w.metric).set(w.seconds_to_limit)
        current = {("early_warning", w.subject, w.metric): w for w in warnings}
        current |= {("trend", t.subject, t.metric): t for t in found_trends}
        new = [key for key in current if key not in self._active]
        self._active = set(current)
        messages = []
        for key in new:
            item = current[key]
            message = {"type": key[0], "timestamp": iso(at), "subject": item.subject, "metric": item.metric,
                       "evidence": item.evidence.to_json()}  # fmt: skip
            if isinstance(item, EarlyWarning):
                message |= {
                    "limit": item.limit_text,
                    "eta": iso(item.eta),
                    "seconds_to_limit": round(item.seconds_to_limit),
                }
            messages.append(message)
            if self.channels is not None:
                await self.channels.publish("alerts", message)
        return messages
