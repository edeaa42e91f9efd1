"""Dynamic sampling of normal log records under a spike, with a policy that can change at run time.

Every ``window_seconds`` the sampler compares the incoming rate with a learned baseline (the
busiest window of the first ``warmup_seconds``, then an average of calm windows, never below
``min_rate``). When the rate that would be *kept* passes
``spike_factor`` × baseline, or the memory buffer is fuller than ``buffer_fill``, the sample rate
steps down one rung of ``steps`` (1 → 0.1 → 0.01 → 0.001); after ``calm_seconds`` in which the
next rung up would keep less than half of that, it steps back up. Records at or above
``always_keep_level``, with any of ``always_keep_fields`` set (``error_code``, an exception …)
and loggers/services with a fixed-rate override are never touched by the dynamic rate.

Sampling is deterministic (a running sum of the rate keeps exactly one in 1/rate), runs before
formatting so a dropped record costs next to nothing, and every kept record below 1 carries its
``sample_rate`` so counts can be re-weighted (count / sample_rate).

Policy in YAML (or the same as JSON in Redis)::

    steps: [1.0, 0.1, 0.01, 0.001]
    spike_factor: 10
    min_rate: 100            # records/s below which nothing is ever sampled
    calm_seconds: 10
    always_keep_level: WARNING
    always_keep_fields: [error_code, exc_info]
    overrides:
      - {logger: uvicorn.access, rate: 0.05}   # fixed rate, prefix match on the logger name
      - {service: billing, rate: 1.0}          # never sample this service
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    logger: str | None = None
    service: str | None = None
    rate: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _needs_a_match(self) -> Override:
        if self.logger is None and self.service is None:
            raise ValueError("an override needs 'logger' or 'service'")
        return self


class SamplingPolicy(BaseModel):
    """The knobs of dynamic sampling; anything invalid is refused whole (the last good one stays)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: tuple[float, ...] = (1.0, 0.1, 0.01, 0.001)
    spike_factor: float = Field(10.0, gt=1.0)
    min_rate: float = Field(100.0, ge=0.0)
    buffer_fill: float = Field(0.5, gt=0.0, le=1.0)
    window_seconds: float = Field(1.0, gt=0.0, le=60.0)
    calm_seconds: float = Field(10.0, ge=0.0)
    warmup_seconds: float = Field(10.0, ge=0.0)
    always_keep_level: str = "WARNING"
    always_keep_fields: tuple[str, ...] = ("error_code", "exc_info")
    overrides: tuple[Override, ...] = ()

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        if not steps or steps[0] != 1.0:
            raise ValueError("steps must start at 1.0")
        if any(not 0.0 < b < a for a, b in itertools.pairwise(steps)):
            raise ValueError("steps must be strictly decreasing and above 0")
        return steps

    @field_validator("always_keep_level")
    @classmethod
    def _level(cls, name: str) -> str:
        if not isinstance(logging.getLevelName(name.upper()), int):
            raise ValueError(f"unknown level {name!r}")
        return name.upper()

    @property
    def keep_levelno(self) -> int:
        return int(logging.getLevelName(self.always_keep_level))


class Sampler:
    """Decides, per record, whether to keep it and at what rate; thread-safe, cheap when calm.

    >>> sampler = Sampler(SamplingPolicy(), on_rate=gauge.set)
    >>> rate = sampler.decide(record, buffer_fill=0.1)   # None: leave it out
    """

    def __init__(self, policy: SamplingPolicy | None = None, *, service: str = "app",
                 on_rate: Callable[[float], None] | None = None) -> None:
        self.service = service
        self._on_rate = on_rate
        self._lock = threading.Lock()
        self._step = 0
        self._count = 0
        self._window_start = 0.0  # the first window only starts the clock
        self._started: float | None = None
        self._baseline = 0.0
        self._calm_since: float | None = None
        self._acc = 0.0
        self.policy = policy or SamplingPolicy()

    @property
    def policy(self) -> SamplingPolicy:
        return self._policy

    @policy.setter
    def policy(self, policy: SamplingPolicy) -> None:
        self._policy = policy
        self._keep_levelno = policy.keep_levelno
        self._fixed = {o.logger: o.rate for o in policy.overrides if o.logger and not o.service}
        service_rates = [o.rate for o in policy.overrides if o.service == self.service and not o.logger]
        self._service_rate = service_rates[0] if service_rates else None
        self._step = min(self._step, len(policy.steps) - 1)

    @property
    def rate(self) -> float:
        return self._policy.steps[self._step]

    def decide(self, record: logging.LogRecord, buffer_fill: float = 0.0) -> float | None:
        """The rate to stamp on a kept record (1.0: not sampled), or None to leave it out."""
        policy = self._policy
        self._count += 1  # unlocked: a lost increment only nudges a rate estimate
        if record.created - self._window_start >= policy.window_seconds:
            with self._lock:
                if record.created - self._window_start >= policy.window_seconds:
                    self._roll(record.created, buffer_fill)
        if record.levelno >= self._keep_levelno:
            return 1.0
        fixed = self._override(record.name)
        rate = self._policy.steps[self._step] if fixed is None else fixed
        if rate >= 1.0 or any(getattr(record, f, None) for f in policy.always_keep_fields):
            return 1.0
        with self._lock:
            self._acc += rate
            if self._acc >= 1.0:
                self._acc -= 1.0
                return rate
        return None

    def _override(self, logger: str) -> float | None:
        if self._service_rate is not None:
            return self._service_rate
        if not self._fixed:
            return None
        name = logger
        while True:  # the most specific prefix wins: "a.b.c", then "a.b", then "a"
            if name in self._fixed:
                return self._fixed[name]
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]

    def _roll(self, now: float, fill: float) -> None:
        policy = self._policy
        incoming = self._count / max(now - self._window_start, 1e-9)
        self._count = 0
        self._window_start = now
        if self._started is None or now - self._started < policy.warmup_seconds:
            # The first windows teach the baseline: a busy service is not a spike at its own start.
            if self._started is None:
                self._started = now
            else:
                self._baseline = max(self._baseline, incoming)
            return
        baseline = max(self._baseline, policy.min_rate)
        kept = incoming * policy.steps[self._step]
        if kept > policy.spike_factor * baseline or fill > policy.buffer_fill:
            self._step = min(self._step + 1, len(policy.steps) - 1)
            self._calm_since = None
        elif self._step == 0:
            # Learn only from calm windows, so a spike never becomes the new normal.
            self._baseline = incoming if self._baseline == 0 else 0.9 * self._baseline + 0.1 * incoming
        elif incoming * policy.steps[self._step - 1] <= policy.spike_factor * baseline / 2 and (
            fill <= policy.buffer_fill / 2
        ):
            self._calm_since = self._calm_since if self._calm_since is not None else now
            if now - self._calm_since >= policy.calm_seconds:
                self._step -= 1
                self._calm_since = now
        else:
            self._calm_since = None
        if self._on_rate is not None:
            self._on_rate(policy.steps[self._step])
