"""Two replicas on one real Redis, one of them killed while it held a group lock.

Seen with ``LLM_SRE_LEASE_SECONDS=10``: the lock (then a fixed 30 s) outlived the lease, so a
second worker took over the job while the first still waited on the lock, and both posted each
group to Slack without the "possible repeat" note."""

from __future__ import annotations

import asyncio
import time
import uuid

import redis
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.delivery.slack import REPEAT_NOTE
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.redis_store import RedisStore
from alert_webhooks.schemas import Notification
from alert_webhooks.service import build_notifiers
from alert_webhooks.settings import Settings
from alert_webhooks.worker import Worker, WorkerConfig
from tests.fakes import FakeSlackWebhook
from tests.webhooks.conftest import TOKEN, notification

LEASE = 1.0
GROUPS = 3


async def _work_until_settled(
    workers: list[Worker], store: RedisStore, ids: list[str], timeout: float
) -> None:
    tasks = [asyncio.create_task(w.run()) for w in workers]
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            # Settled: every group delivered and no job left, so no stale holder still runs one.
            incidents = [await asyncio.to_thread(store.incident, i) for i in ids]
            queue = await asyncio.to_thread(store.stats, time.time())
            if all(i and "slack" in i.deliveries for i in incidents) and queue.depth == 0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not delivered within {timeout}s")
    finally:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)


def test_a_lock_left_by_a_killed_replica_never_outlives_the_lease(
    redis_url: str, slack: FakeSlackWebhook, tmp_path
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"

    def replica() -> RedisStore:
        return RedisStore(redis.Redis.from_url(redis_url), prefix=prefix, lease=LEASE)

    intake = replica()
    bodies = [Notification.model_validate(notification(group=f"g{g}")) for g in range(GROUPS)]
    ids = [intake.ingest(body, time.time()).incident_id for body in bodies]
    killed = replica()
    for body in bodies:  # held by a replica SIGKILLed mid-write: never released
        assert killed._group_lock(body.groupKey).acquire()

    settings = Settings(
        data_dir=tmp_path, webhook_token=TOKEN, slack_webhook_url=f"{slack.url}/services/T000/B000/test"
    )
    workers = []
    for name in ("a", "b"):
        metrics = ServiceMetrics.create(CollectorRegistry())
        analyst = build_analyst(settings, registry=metrics.registry, use_llm=False)
        config = WorkerConfig(lease=LEASE, llm_concurrency=0, poll=0.05, owner=f"replica-{name}")
        workers.append(Worker(replica(), build_notifiers(settings), analyst, metrics, config))
    asyncio.run(_work_until_settled(workers, intake, ids, timeout=60))

    for g in range(GROUPS):
        posts = [m["text"] for m in slack.messages if f"svc-g{g}" in m["text"]]
        assert posts, f"group g{g} never posted"
        repeats = [p for p in posts[1:] if REPEAT_NOTE not in p]
        assert not repeats, f"group g{g} posted {len(posts)} times, {len(repeats)} without the note"
