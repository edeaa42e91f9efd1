"""The hourly LLM budget: tokens and model-seconds over a sliding one-hour window.

A storm must not turn into an hour of model time nobody asked for. The scheduler
(:mod:`alert_webhooks.refinement`) asks :meth:`Budget.reserve` before a refinement starts, with
the most it can cost (the prompt's tokens plus the answer cap, the analyst's deadline); the
reservation counts against the budget until :meth:`Budget.settle` replaces it with what was
spent. Because a refinement cannot cost more than its reservation (the deadline cancels the
call, ``num_predict``/``max_tokens`` caps the answer), the spend within any hour never exceeds
the limit. Spend leaves the window an hour after it was settled: that is when budget returns.

    budget = Budget(tokens=200_000, seconds=1800, registry=registry)
    if budget.reserve(Cost(tokens=2400, seconds=60)): ...
    budget.settle(Cost(2400, 60), Cost(tokens=1900, seconds=12.5))

Hand-written (no library): a deque of (time, cost) is the whole algorithm, and a rate limiter
library would not reserve-then-settle. This budget is one process's; with ``LLM_SRE_STORE=redis``
the replicas share one in Redis (:mod:`alert_webhooks.redis_budget`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from exporters.catalogue import metrics

WINDOW = 3600.0


@dataclass(frozen=True)
class Cost:
    tokens: float  # a count; float so that an unlimited resource can be ``math.inf``
    seconds: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.tokens + other.tokens, self.seconds + other.seconds)

    def __sub__(self, other: Cost) -> Cost:
        return Cost(self.tokens - other.tokens, self.seconds - other.seconds)

    def capped(self, most: Cost) -> Cost:
        return Cost(min(self.tokens, most.tokens), min(self.seconds, most.seconds))


ZERO = Cost(0, 0.0)


class Budget:
    """Spend within the last hour plus outstanding reservations stays within ``tokens``/``seconds``
    (``None``: that resource is unlimited)."""

    def __init__(
        self,
        tokens: int | None = None,
        seconds: float | None = None,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
        window: float = WINDOW,
    ) -> None:
        self.limit = Cost(
            tokens if tokens is not None else math.inf, seconds if seconds is not None else math.inf
        )
        self._clock, self._window = clock, window
        self._spent: deque[tuple[float, Cost]] = deque()
        self._in_window = ZERO
        self._reserved = ZERO
        m = metrics(registry)
        self._spent_total, self._remaining = (
            m["llm_sre_analyst_budget_spent_total"],
            m["llm_sre_analyst_budget_remaining"],
        )
        self._export()

    @property
    def limited(self) -> bool:
        return math.isfinite(self.limit.tokens) or math.isfinite(self.limit.seconds)

    def _expire(self) -> None:
        edge = self._clock() - self._window
        while self._spent and self._spent[0][0] <= edge:
            self._in_window -= self._spent.popleft()[1]

    def used(self) -> Cost:
        """Spent within the window plus what running refinements have reserved."""
        self._expire()
        return self._in_window + self._reserved

    def fits(self, cost: Cost) -> bool:
        """Whether ``cost`` could be reserved now."""
        return self._within(self.used() + cost)

    def _within(self, total: Cost) -> bool:
        return total.tokens <= self.limit.tokens and total.seconds <= self.limit.seconds

    def ever_fits(self, cost: Cost) -> bool:
        """Whether ``cost`` fits an empty window at all (a prompt larger than the budget never does)."""
        return self._within(cost)

    def reserve(self, cost: Cost) -> bool:
        """Hold ``cost`` for a refinement about to start; ``False`` (nothing held) if it does not fit."""
        if not self.fits(cost):
            self._export()
            return False
        self._reserved += cost
        self._export()
        return True

    def settle(self, reserved: Cost, spent: Cost) -> None:
        """Replace a reservation with the spend, never more than was reserved: the overrun can
        only be scheduling jitter past the deadline that cancelled the call."""
        spent = spent.capped(reserved)
        self._reserved -= reserved
        self._spent.append((self._clock(), spent))
        self._in_window += spent
        self._count(spent)

    def _count(self, spent: Cost) -> None:
        self._spent_total.labels(resource="tokens").inc(spent.tokens)
        self._spent_total.labels(resource="model_seconds").inc(spent.seconds)
        self._export()

    def returns_in(self, cost: Cost) -> float | None:
        """Seconds until ``cost`` fits once settled spend leaves the window; ``None`` if it never
        will (it exceeds the limit itself, or only running refinements hold the budget)."""
        self._expire()
        now, used = self._clock(), self._in_window + self._reserved
        for at, spent in self._spent:
            used -= spent
            if self._within(used + cost):
                return max(at + self._window - now, 0.0)
        return None

    def _export(self) -> None:
        left = self.limit - self.used()
        if math.isfinite(self.limit.tokens):
            self._remaining.labels(resource="tokens").set(max(left.tokens, 0))
        if math.isfinite(self.limit.seconds):
            self._remaining.labels(resource="model_seconds").set(max(left.seconds, 0.0))
