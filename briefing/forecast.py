"""When a series reaches its limit, from a straight line fitted to the last day of samples.

Why a line over a whole day: memory, budgets and disks that run out do so by steady growth, while
the daily traffic cycle makes any series rise for hours every morning. A fit over 24 hours spans a
whole cycle, so the cycle cancels out and only growth that outlasts it projects forward. A fit
over the last hour would warn every morning.

A projection is only trusted when the rise it predicts over the fitted window stands out from the
scatter around the line (``min_signal`` residual standard deviations): a flat, noisy series has a
small fitted slope by chance, and its "ETA" is noise.

    p = project(times, values, limit=0.9, at=now)
    p.eta if p else None
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DAY = 86400.0


@dataclass(frozen=True)
class Projection:
    slope: float  # units per second
    current: float  # the fitted value at ``at``
    eta: float  # Unix time the line reaches the limit (``at`` when already there)
    at: float

    @property
    def seconds_to_limit(self) -> float:
        return self.eta - self.at


def project(
    times: Sequence[float],
    values: Sequence[float],
    limit: float,
    at: float,
    *,
    min_coverage: float = 0.5,
    window: float = DAY,
    min_signal: float = 2.0,
) -> Projection | None:
    """The line through ``(times, values)`` (already cut to the window) and when it meets ``limit``.

    ``None`` when there are too few samples (less than ``min_coverage`` of the window), the line
    does not rise, or the rise is indistinguishable from the scatter.
    """
    if len(times) < 8 or times[-1] - times[0] < min_coverage * window:
        return None
    if values[-1] >= limit:
        return Projection(0.0, values[-1], at, at)
    # Centred on ``at`` so the intercept is the fitted current value.
    xs = [t - at for t in times]
    slope, current = statistics.linear_regression(xs, values)
    if slope <= 0 or math.isnan(slope):
        return None
    residual = statistics.pstdev(v - (slope * x + current) for x, v in zip(xs, values, strict=True))
    if slope * (times[-1] - times[0]) < min_signal * residual:
        return None
    if current >= limit:
        return Projection(slope, current, at, at)
    return Projection(slope, current, at + (limit - current) / slope, at)
