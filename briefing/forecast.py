"""When a series reaches its limit, from a straight line fitted to the last day of samples.

Why a line over a whole day: memory, budgets and disks that run out do so by steady growth, while
the daily traffic cycle makes any series rise for hours every morning. A fit over 24 hours spans a
whole cycle, and a fit over the last hour would warn every morning.

A projection is only trusted when the rise it predicts over the fitted window stands out from the
scatter around the line (``min_signal`` residual standard deviations) — a flat, noisy series has a
small fitted slope by chance, and its "ETA" is noise — and when each half of the window rises on
its own, which a daily cycle never does.

Limits on a trailing mean (an SLO's burn rate over 3 days) are projected as that mean: the part of
the window already recorded stays as it was, the rest follows the line — so a burn that started
two days ago is neither ignored (as the lagging 3-day rate would) nor extrapolated from its bend.

    p = project(times, values, limit=0.9, at=now)
    p.eta if p else None
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

DAY = 86400.0
SEARCH_STRIDE = 900.0  # ETA resolution of trailing-mean projections: a quarter of an hour is plenty


@dataclass(frozen=True)
class Projection:
    slope: float  # units per second
    current: float  # the fitted value at ``at`` (or the window's mean so far)
    eta: float  # Unix time the limit is reached (``at`` when already there)
    at: float

    @property
    def seconds_to_limit(self) -> float:
        return self.eta - self.at


def fit(
    times: Sequence[float], values: Sequence[float], at: float, window: float, *,
    min_coverage: float = 0.5, min_signal: float = 2.0,
) -> tuple[float, float] | None:  # fmt: skip
    """(slope, value at ``at``) of a rising line that stands out from the scatter, else ``None``."""
    lo = bisect_right(times, at - window)
    times, values = times[lo:], values[lo:]
    if len(times) < 8 or times[-1] - times[0] < min_coverage * window:
        return None
    xs = [t - at for t in times]  # centred on ``at``: the intercept is the fitted current value
    slope, current = statistics.linear_regression(xs, values)
    if slope <= 0 or math.isnan(slope):
        return None
    residual = statistics.pstdev(v - (slope * x + current) for x, v in zip(xs, values, strict=True))
    if slope * (times[-1] - times[0]) < min_signal * residual:
        return None
    # Growth shows in both halves of the window; a daily cycle rises in one and falls in the other
    # (a least-squares line through one cycle still tilts, depending on where the cycle starts).
    half = len(xs) // 2
    if any(statistics.linear_regression(xs[a:b], values[a:b])[0] <= 0 for a, b in ((0, half), (half, None))):
        return None
    return slope, current


def project(
    times: Sequence[float], values: Sequence[float], limit: float, at: float, *, window: float = DAY,
) -> Projection | None:  # fmt: skip
    """The line through the last ``window`` of samples and when it meets ``limit``."""
    if times and values[-1] >= limit:
        return Projection(0.0, values[-1], at, at)
    line = fit(times, values, at, window)
    if line is None:
        return None
    slope, current = line
    if current >= limit:
        return Projection(slope, current, at, at)
    return Projection(slope, current, at + (limit - current) / slope, at)


def project_mean(
    times: Sequence[float], values: Sequence[float], limit: float, at: float, mean_window: float,
    horizon: float, *, window: float = DAY,
) -> Projection | None:  # fmt: skip
    """When the mean over the trailing ``mean_window`` reaches ``limit`` (searched up to ``horizon``)."""
    if len(times) < 2:
        return None
    step = statistics.median(b - a for a, b in pairwise(times))
    prefix = [0.0, *accumulate(values)]  # prefix[i] = sum of values[:i]
    end = bisect_right(times, at)

    def mean_at(when: float, slope: float, current: float) -> float:
        first = bisect_right(times, when - mean_window, 0, end)
        observed_sum, observed_n = prefix[end] - prefix[first], end - first
        # The future part of the window as samples every ``step``: the line's mean over it.
        future_start = max(at, when - mean_window)
        length = max(0.0, when - future_start)
        future_n = length / step
        future_mean = max(0.0, current + slope * (future_start - at + length / 2))
        total_n = observed_n + future_n
        return (observed_sum + future_mean * future_n) / total_n if total_n else 0.0

    now = mean_at(at, 0.0, 0.0)
    if now >= limit:
        return Projection(0.0, now, at, at)
    line = fit(times, values, at, window)
    if line is None:
        return None
    slope, current = line
    when, stride = at, max(step, SEARCH_STRIDE)
    while when - at < horizon:
        when += stride
        if mean_at(when, slope, current) >= limit:
            return Projection(slope, now, when, at)
    return None
