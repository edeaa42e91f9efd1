"""Where a running process gets its sampling policy: a watched YAML file, and Redis for a fleet.

One daemon thread polls the file's modification time and listens on a Redis channel; a message
on the channel (any payload) makes every process re-read the key, so the fleet switches within
a second without a restart::

    redis-cli SET llm-sre:loki:sampling "$(cat policy.yaml)"
    redis-cli PUBLISH llm-sre:loki:sampling reload

A policy that does not parse or validate is rejected with the reason logged (by other handlers:
this thread's records never enter the Loki handler) and counted in
``llm_sre_loki_policy_updates_total{result="rejected"}``; the last good policy stays.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import redis
import yaml
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from exporters.catalogue import metrics
from exporters.sampling import Sampler, SamplingPolicy

log = logging.getLogger(__name__)
DEFAULT_KEY = "llm-sre:loki:sampling"
THREAD_NAME = "loki-policy"


class PolicyError(ValueError):
    pass


def parse_policy(text: str) -> SamplingPolicy:
    """YAML (or JSON) text → a validated policy; PolicyError with a readable reason otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError("a policy is a mapping of settings")
    try:
        return SamplingPolicy.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'policy'}: {e['msg']}" for e in exc.errors())
        raise PolicyError(reasons) from None


class PolicyWatcher:
    """Keeps ``sampler.policy`` in step with a file and/or a Redis key.

    >>> watcher = PolicyWatcher(sampler, path=Path("/etc/llm-sre/sampling.yaml"),
    ...                         redis_url="redis://redis:6379/0").start()
    """

    def __init__(self, sampler: Sampler, *, path: Path | None = None, redis_url: str | None = None,
                 key: str = DEFAULT_KEY, channel: str | None = None, interval: float = 1.0,
                 registry: CollectorRegistry | None = None) -> None:
        self.sampler = sampler
        self.path = path
        self.redis_url = redis_url
        self.key = key
        self.channel = channel or key
        self.interval = interval
        self.last_error: str | None = None
        self.applied = 0
        self._updates = metrics(registry)["llm_sre_loki_policy_updates_total"]
        self._mtime: float | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> PolicyWatcher:
        self.check_file()  # the file's policy applies before the first record is sampled
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(self.interval + 2)

    def apply(self, text: str, source: str) -> bool:
        try:
            policy = parse_policy(text)
        except PolicyError as exc:
            self.last_error = f"{source}: {exc}"
            self._updates.labels(source=source, result="rejected").inc()
            log.error("sampling policy from %s rejected, keeping the last good one: %s", source, exc)
            return False
        self.sampler.policy = policy
        self.applied += 1
        self.last_error = None
        self._updates.labels(source=source, result="applied").inc()
        return True

    def check_file(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime_ns
            if mtime == self._mtime:
                return
            self._mtime = mtime
            text = self.path.read_text()
        except OSError as exc:
            if self._mtime != -1:
                log.warning("sampling policy file %s unreadable: %s", self.path, exc)
            self._mtime = -1
            return
        self.apply(text, "file")

    def _load_key(self, client: redis.Redis) -> None:
        value = client.get(self.key)
        if value is not None:
            self.apply(value.decode() if isinstance(value, bytes) else str(value), "redis")

    def _run(self) -> None:
        pubsub = None
        while not self._stop.is_set():
            self.check_file()
            if self.redis_url is None:
                self._stop.wait(self.interval)
                continue
            try:
                if pubsub is None:
                    client = redis.Redis.from_url(self.redis_url, socket_timeout=self.interval + 5)
                    pubsub = client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(self.channel)
                    self._load_key(client)  # after subscribing: no update can fall in between
                if pubsub.get_message(timeout=self.interval) is not None:
                    self._load_key(client)
            except redis.RedisError as exc:
                log.warning("sampling policy: Redis unavailable (%s); retrying", type(exc).__name__)
                pubsub = None
                self._stop.wait(self.interval)
