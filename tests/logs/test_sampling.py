"""Dynamic sampling under a spike, and its policy changed at run time from a file and a real Redis."""

from __future__ import annotations

import logging

import pytest
import redis
from prometheus_client import CollectorRegistry

from exporters.sampling import Sampler, SamplingPolicy
from exporters.sampling_policy import PolicyError, PolicyWatcher, parse_policy
from llm_sre.processes import wait_until
from tests.webhooks.conftest import redis_url  # noqa: F401 - the real redis-server fixture


def rec(created: float, level: int = logging.INFO, name: str = "rag.api",
        **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, "m", (), None)
    record.created = created
    record.__dict__.update(extra)
    return record


def run(sampler: Sampler, start: float, seconds: int, per_second: int,
        **kw: object) -> list[tuple[float, int]]:
    """Feed ``per_second`` INFO records for ``seconds``; return (rate at end of second, kept) per second."""
    out = []
    for s in range(seconds):
        kept = 0
        for i in range(per_second):
            if sampler.decide(rec(start + s + i / per_second, **kw)) is not None:
                kept += 1
        out.append((sampler.rate, kept))
    return out


def test_a_100x_spike_is_sampled_within_seconds_and_relaxes_after():
    sampler = Sampler(SamplingPolicy(min_rate=50, calm_seconds=3))
    calm = run(sampler, 0.0, 10, 100)
    assert all(rate == 1.0 for rate, _ in calm) and all(kept == 100 for _, kept in calm)
    spike = run(sampler, 10.0, 6, 10_000)
    engaged = next(i for i, (rate, _) in enumerate(spike) if rate < 1.0)
    assert engaged <= 2  # within two one-second windows
    assert spike[-1][0] == 0.1  # 100x the baseline sampled to 10x it, not further
    assert spike[-1][1] <= 10_000 * 0.1 + 1
    after = run(sampler, 16.0, 12, 100)
    assert after[-1][0] == 1.0 and after[-1][1] == 100  # back to keeping everything when calm


def test_a_service_that_starts_busy_is_not_a_spike():
    sampler = Sampler(SamplingPolicy(min_rate=50))
    busy = run(sampler, 0.0, 15, 2_000)
    assert all(rate == 1.0 for rate, _ in busy)


def test_buffer_filling_steps_down_even_without_a_rate_spike():
    sampler = Sampler(SamplingPolicy(min_rate=1000, warmup_seconds=0))
    for t in range(4):
        sampler.decide(rec(float(t)), buffer_fill=0.9)
    assert sampler.rate < 1.0


def test_warnings_errors_codes_and_overrides_are_always_kept():
    policy = SamplingPolicy(steps=(1.0, 0.001), overrides=({"logger": "audit", "rate": 1.0},))
    sampler = Sampler(policy)
    sampler._step = 1  # as under a storm
    assert sampler.decide(rec(1.0, logging.WARNING)) == 1.0
    assert sampler.decide(rec(1.0, logging.ERROR)) == 1.0
    assert sampler.decide(rec(1.0, error_code="E_UPSTREAM")) == 1.0
    assert sampler.decide(rec(1.0, name="audit.login")) == 1.0
    kept = [sampler.decide(rec(1.0)) for _ in range(3000)]
    assert [r for r in kept if r is not None] == [0.001] * 3  # exactly 1 in 1000, each carrying its rate


def test_service_override_and_fixed_logger_rate():
    sampler = Sampler(SamplingPolicy(overrides=({"logger": "uvicorn.access", "rate": 0.5},)))
    kept = sum(sampler.decide(rec(1.0, name="uvicorn.access")) is not None for _ in range(100))
    assert kept == 50
    quiet = Sampler(SamplingPolicy(overrides=({"service": "billing", "rate": 0.0},)), service="billing")
    assert quiet.decide(rec(1.0)) is None and quiet.decide(rec(1.0, logging.ERROR)) == 1.0


@pytest.mark.parametrize(("text", "reason"), [
    ("steps: [0.5, 0.1]", "start at 1.0"),
    ("steps: [1.0, 0.1, 0.2]", "strictly decreasing"),
    ("spike_factor: 0.5", "greater than 1"),
    ("always_keep_level: LOUD", "unknown level"),
    ("overrides: [{rate: 0.5}]", "needs 'logger' or 'service'"),
    ("colour: blue", "Extra inputs"),
    ("[1, 2", "not YAML"),
    ("just text", "mapping"),
])
def test_bad_policies_are_refused_with_a_reason(text, reason):
    with pytest.raises(PolicyError, match=reason):
        parse_policy(text)


def test_policy_file_is_watched_and_a_bad_one_keeps_the_last_good(tmp_path):
    path = tmp_path / "sampling.yaml"
    path.write_text("spike_factor: 4\n")
    registry = CollectorRegistry()
    sampler = Sampler()
    watcher = PolicyWatcher(sampler, path=path, interval=0.05, registry=registry).start()
    try:
        assert sampler.policy.spike_factor == 4
        path.write_text("spike_factor: 20\ncalm_seconds: 1\n")
        wait_until(lambda: sampler.policy.spike_factor == 20, 10, what="file change applied")
        path.write_text("spike_factor: -1\n")
        wait_until(lambda: watcher.last_error, 10, what="bad policy noticed")
        assert "spike_factor" in str(watcher.last_error)
        assert sampler.policy.spike_factor == 20 and sampler.policy.calm_seconds == 1
        rejected = registry.get_sample_value("llm_sre_loki_policy_updates_total",
                                             {"source": "file", "result": "rejected"})
        assert rejected == 1
    finally:
        watcher.stop()


def test_fleet_policy_from_redis_key_and_pubsub(redis_url):  # noqa: F811 - the imported fixture
    client = redis.Redis.from_url(redis_url)
    client.set("t:sampling", "min_rate: 7\n")
    fleet = [Sampler() for _ in range(2)]  # two app processes of the fleet
    watchers = [PolicyWatcher(s, redis_url=redis_url, key="t:sampling", interval=0.1).start() for s in fleet]
    try:
        wait_until(lambda: all(s.policy.min_rate == 7 for s in fleet), 10, what="key read at start")
        client.set("t:sampling", "min_rate: 9\nsteps: [1.0, 0.5]\n")
        client.publish("t:sampling", "reload")
        wait_until(lambda: all(s.policy.steps == (1.0, 0.5) for s in fleet), 10, what="pub/sub update")
        client.set("t:sampling", "steps: [2.0]\n")
        client.publish("t:sampling", "reload")
        wait_until(lambda: all(w.last_error for w in watchers), 10, what="bad policy rejected")
        assert all(s.policy.min_rate == 9 for s in fleet)  # the last good policy stays
    finally:
        for w in watchers:
            w.stop()
        client.close()
