"""One hourly LLM budget shared by every replica that uses the Redis store (``LLM_SRE_STORE=redis``).

Each process's own :class:`~alert_webhooks.budget.Budget` would let N replicas spend N budgets. Here
the spend and the outstanding reservations live in Redis and every check-and-reserve is one Lua
script, so two workers racing for the last tokens cannot both get them:

* ``budget:spent`` — a sorted set of settled spends (member ``owner:seq|tokens|seconds``, scored
  by when it was settled); what is older than the window is removed before each decision;
* ``budget:reserved`` — a hash, one field per process (``tokens|seconds|until``): what its running
  refinements hold. A process that dies holding a reservation stops refreshing it and the script
  drops it ``hold`` seconds after its last reservation (more than a refinement's deadline).

    budget = RedisBudget(redis.Redis.from_url(url), tokens=200_000, seconds=1800, hold=180)

The scripts are hand-written because no client library offers a shared reserve-then-settle
window; redis-py runs them with EVALSHA (``register_script``). When Redis cannot be reached the
budget fails closed: nothing is reserved (the spend could not be counted), the incident keeps its
deterministic summary, and the scheduler asks again after ``poll`` seconds.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable

import redis
from prometheus_client import CollectorRegistry

from alert_webhooks.budget import WINDOW, Budget, Cost

log = logging.getLogger(__name__)

_USAGE = """
local function usage(now, window)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local t, s = 0, 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local _, _, mt, ms = string.find(m, '|([^|]*)|([^|]*)$')
    t = t + tonumber(mt); s = s + tonumber(ms)
  end
  local h = redis.call('HGETALL', KEYS[2])
  for i = 1, #h, 2 do
    local _, _, rt, rs, ru = string.find(h[i + 1], '^([^|]*)|([^|]*)|([^|]*)$')
    if tonumber(ru) < now then
      redis.call('HDEL', KEYS[2], h[i])
    else
      t = t + tonumber(rt); s = s + tonumber(rs)
    end
  end
  return t, s
end
local function fmt(x) return string.format('%.17g', x) end
"""

# ARGV: now, window → {tokens, seconds} spent in the window plus live reservations
_USED = _USAGE + """
local t, s = usage(tonumber(ARGV[1]), tonumber(ARGV[2]))
return {fmt(t), fmt(s)}
"""

# ARGV: now, window, limit tokens, limit seconds, owner, tokens, seconds, hold → 1 reserved, 0 not
_RESERVE = _USAGE + """
local now = tonumber(ARGV[1])
local t, s = usage(now, tonumber(ARGV[2]))
local ct, cs = tonumber(ARGV[6]), tonumber(ARGV[7])
if t + ct > tonumber(ARGV[3]) or s + cs > tonumber(ARGV[4]) then return 0 end
local held = redis.call('HGET', KEYS[2], ARGV[5])
local ht, hs = 0, 0
if held then
  local _, _, a, b = string.find(held, '^([^|]*)|([^|]*)|')
  ht, hs = tonumber(a), tonumber(b)
end
local expiry = fmt(now + tonumber(ARGV[8]))
redis.call('HSET', KEYS[2], ARGV[5], fmt(ht + ct) .. '|' .. fmt(hs + cs) .. '|' .. expiry)
return 1
"""

# ARGV: now, window, owner, reserved tokens, reserved seconds, spent tokens, spent seconds
_SETTLE = """
local now = tonumber(ARGV[1])
local function fmt(x) return string.format('%.17g', x) end
local held = redis.call('HGET', KEYS[2], ARGV[3])
if held then
  local _, _, a, b, u = string.find(held, '^([^|]*)|([^|]*)|([^|]*)$')
  local ht, hs = tonumber(a) - tonumber(ARGV[4]), tonumber(b) - tonumber(ARGV[5])
  if ht <= 0 and hs <= 1e-9 then
    redis.call('HDEL', KEYS[2], ARGV[3])
  else
    redis.call('HSET', KEYS[2], ARGV[3], fmt(math.max(ht, 0)) .. '|' .. fmt(math.max(hs, 0)) .. '|' .. u)
  end
end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. seq .. '|' .. ARGV[6] .. '|' .. ARGV[7])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2000))
return 1
"""

# Redis' Lua has no infinity literal that survives ARGV; an unlimited resource is this.
_UNLIMITED = 1e300


class RedisBudget(Budget):
    """The :class:`Budget` contract (reserve before, settle after) against one shared window."""

    def __init__(
        self,
        client: redis.Redis,
        tokens: int | None = None,
        seconds: float | None = None,
        *,
        prefix: str = "llm-sre",
        hold: float = 180.0,
        poll: float = 5.0,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
        window: float = WINDOW,
    ) -> None:
        self._r, self._hold, self._poll = client, hold, poll
        self._owner = uuid.uuid4().hex
        self._keys = [f"{prefix}:budget:spent", f"{prefix}:budget:reserved", f"{prefix}:budget:seq"]
        self._used, self._reserve, self._settle = (
            client.register_script(_USED),
            client.register_script(_RESERVE),
            client.register_script(_SETTLE),
        )
        super().__init__(tokens, seconds, registry=registry, clock=clock, window=window)

    def _limit(self, value: float) -> float:
        return value if math.isfinite(value) else _UNLIMITED

    def used(self) -> Cost:
        """Shared spend plus every replica's reservations; all of the limit when Redis is away."""
        try:
            t, s = self._used(keys=self._keys, args=[self._clock(), self._window])
        except redis.RedisError as exc:
            log.warning("shared LLM budget unreadable (%s): counted as spent", type(exc).__name__)
            return self.limit
        return Cost(float(t), float(s))

    def reserve(self, cost: Cost) -> bool:
        args = [
            self._clock(),
            self._window,
            self._limit(self.limit.tokens),
            self._limit(self.limit.seconds),
            self._owner,
            cost.tokens,
            cost.seconds,
            self._hold,
        ]
        try:
            ok = bool(self._reserve(keys=self._keys, args=args))
        except redis.RedisError as exc:
            log.warning("shared LLM budget failed (%s: %s): nothing reserved", type(exc).__name__, exc)
            ok = False
        self._export()
        return ok

    def settle(self, reserved: Cost, spent: Cost) -> None:
        spent = spent.capped(reserved)
        args = [self._clock(), self._window, self._owner, *(reserved.tokens, reserved.seconds)]
        try:
            self._settle(keys=self._keys, args=[*args, spent.tokens, spent.seconds])
        except redis.RedisError as exc:  # the reservation lapses after ``hold``; this spend is lost
            log.warning("could not settle the shared LLM budget (%s)", type(exc).__name__)
        self._count(spent)

    def returns_in(self, cost: Cost) -> float | None:
        """When settled spend leaves the shared window; while only reservations hold it (perhaps
        another replica's), ask again every ``poll`` seconds: their ends do not wake this process."""
        if not self.ever_fits(cost):
            return None
        now, used = self._clock(), self.used()
        try:
            spends = self._r.zrange(self._keys[0], 0, -1, withscores=True)
        except redis.RedisError:
            return self._poll
        for member, at in spends:
            _, tokens, seconds = member.decode().rsplit("|", 2)
            used -= Cost(float(tokens), float(seconds))
            if self._within(used + cost):
                return max(at + self._window - now, 0.0)
        return self._poll
