"""Is today unusual? The period's mean against the same hours on each of the previous days.

A fixed threshold cannot know that an embedding cache normally hits 93% or that Monday traffic is
heavy; the series' own history can. The spread is the median absolute deviation of the previous
days (robust to one bad day among them), floored so that a very steady series does not turn a
rounding difference into an "anomaly".

    stat = compare(series, at=now, period=86400)
    stat.z if stat else None
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from briefing.series import Series

DAY = 86400.0
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class Comparison:
    today: float
    usual: float  # median of the previous days
    spread: float
    days: int

    @property
    def z(self) -> float:
        return (self.today - self.usual) / self.spread


def compare(
    series: Series,
    at: float,
    period: float,
    *,
    days: int = 7,
    min_days: int = 3,
    relative_floor: float = 0.03,
) -> Comparison | None:
    """``None`` with fewer than ``min_days`` previous days of data (a new series has no "usual")."""
    today = series.mean(at - period, at)
    if today is None:
        return None
    # A previous day counts when it is at least half covered (a series born mid-day is no baseline).
    enough = max(1, series.count(at - period, at) // 2)
    prior = [
        m for d in range(1, days + 1)
        if series.count(at - d * DAY - period, at - d * DAY) >= enough
        and (m := series.mean(at - d * DAY - period, at - d * DAY)) is not None
    ]  # fmt: skip
    if len(prior) < min_days:
        return None
    usual = statistics.median(prior)
    mad = statistics.median(abs(m - usual) for m in prior)
    spread = max(MAD_TO_SIGMA * mad, relative_floor * abs(usual), 1e-12)
    return Comparison(today, usual, spread, len(prior))
