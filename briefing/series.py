"""A range of samples of one series, sliced by time without copying the whole range each hour.

The backtest fetches a week once and asks for hundreds of windows of it, so a window is two
bisections, not a scan.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    times: Sequence[float]  # ascending Unix seconds
    values: Sequence[float]

    @classmethod
    def from_prometheus(cls, result: Mapping) -> Series:
        """One ``query_range`` result (``{"metric": …, "values": [[t, "v"], …]}``); NaN samples dropped."""
        pairs = [(float(t), float(v)) for t, v in result["values"]]
        pairs = [(t, v) for t, v in pairs if v == v]  # NaN != NaN: a 0/0 ratio says nothing
        labels = {k: v for k, v in result["metric"].items() if k != "__name__"}
        return cls(labels, tuple(t for t, _ in pairs), tuple(v for _, v in pairs))

    def window(self, start: float, end: float) -> tuple[Sequence[float], Sequence[float]]:
        """Samples with ``start < t <= end``."""
        lo, hi = bisect_right(self.times, start), bisect_right(self.times, end)
        return self.times[lo:hi], self.values[lo:hi]

    @cached_property
    def _prefix(self) -> list[float]:
        return [0.0, *accumulate(self.values)]

    def mean(self, start: float, end: float) -> float | None:
        """O(log n) with prefix sums: the backtest asks for thousands of daily means of one series."""
        lo, hi = bisect_right(self.times, start), bisect_right(self.times, end)
        return (self._prefix[hi] - self._prefix[lo]) / (hi - lo) if hi > lo else None

    def count(self, start: float, end: float) -> int:
        return bisect_right(self.times, end) - bisect_right(self.times, start)

    def last(self, at: float) -> tuple[float, float] | None:
        i = bisect_right(self.times, at)
        return (self.times[i - 1], self.values[i - 1]) if i else None

    def first_at_or_above(self, limit: float, after: float) -> float | None:
        """When the series first reached ``limit`` after ``after`` (the truth a forecast is judged by)."""
        for i in range(bisect_left(self.times, after), len(self.times)):
            if self.values[i] >= limit:
                return self.times[i]
        return None


def subject_of(template: str, labels: Mapping[str, str]) -> str:
    """``"{service}/{cache}"`` filled from labels; a missing label shows as ``?`` rather than failing."""
    return template.format_map(_Labels(labels))


class _Labels(dict):
    def __missing__(self, key: str) -> str:
        return "?"
