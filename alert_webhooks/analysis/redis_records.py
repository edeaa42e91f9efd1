"""What the Redis knowledge base and archive share: a client, a key prefix and a clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

import redis


class RedisRecords:
    PREFIX = "llm-sre"

    def __init__(
        self,
        client: redis.Redis,
        prefix: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._r = client
        self._p = prefix or self.PREFIX
        self._clock = clock

    @classmethod
    def from_url(cls, url: str) -> Self:
        return cls(redis.Redis.from_url(url, socket_timeout=10, health_check_interval=30))

    def _k(self, name: str) -> str:
        return f"{self._p}:{name}"

    def close(self) -> None:
        self._r.close()
