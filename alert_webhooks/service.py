"""Composition: the store, sinks, analyst, metrics and worker one service process runs, built from
settings. Tests build a :class:`Service` from their own parts instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from grafana_client import GrafanaApi
from grafana_client.client import TokenAuth
from prometheus_client import CollectorRegistry
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from alert_webhooks import feedback
from alert_webhooks.analysis.analyst import Analyst, IncidentAnalyst
from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.budget import Budget
from alert_webhooks.delivery import Notifier
from alert_webhooks.delivery.grafana import GrafanaNotifier
from alert_webhooks.delivery.outbox import OutboxNotifier
from alert_webhooks.delivery.slack import SlackBotNotifier, SlackWebhookNotifier
from alert_webhooks.metrics import ServiceMetrics
from alert_webhooks.pages import PageReader
from alert_webhooks.settings import Settings
from alert_webhooks.shadow import build_shadow
from alert_webhooks.sqlite_store import SqliteStore
from alert_webhooks.store import Store
from alert_webhooks.worker import Worker, WorkerConfig
from analysts.alerts import AlertSpecialists
from analysts.settings import for_service
from llm_sre.lease import JobLease
from llm_sre.scheduler import Scheduler

log = logging.getLogger(__name__)
OUTBOX_FILE = "outbox.jsonl"
PRUNE_CRON = "7 * * * *"  # hourly, off the full hour other jobs crowd
STORE_FILE = "webhook.db"


@dataclass
class Service:
    settings: Settings
    store: Store
    metrics: ServiceMetrics
    worker: Worker
    analyst: Analyst  # the worker's; the analysis API shares it (and its metrics) via app.state
    pages: PageReader | None = None  # incident pages in a helper process (None: the reader thread)

    def __post_init__(self) -> None:
        if isinstance(self.analyst, IncidentAnalyst):  # later analyses read on-call's feedback
            self.analyst.preferences = feedback.Loader(self.store)


def build_store(settings: Settings, read_only: bool = False) -> Store:
    if settings.store_backend == "redis":
        from alert_webhooks.redis_store import RedisStore  # only Redis deployments need the client

        return RedisStore.from_url(
            settings.redis_url, retention=settings.retention_days * 86400, lease=settings.lease_seconds
        )
    return SqliteStore(settings.data_dir / STORE_FILE, settings.sqlite_synchronous, read_only=read_only)


def slack_bot(settings: Settings) -> WebClient | None:
    """The Slack Web API client when a bot token and channel are set (preferred over a webhook)."""
    if not (settings.slack_bot_token and settings.slack_channel):
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(settings.sink_timeout_seconds),
        retry_handlers=[],  # our worker retries, with Retry-After; the SDK's would double them
    )


def slack_webhook(settings: Settings) -> WebhookClient | None:
    if not settings.slack_webhook_url:
        return None
    return WebhookClient(
        settings.slack_webhook_url.get_secret_value(),
        timeout=int(settings.sink_timeout_seconds),
        retry_handlers=[],
    )


def grafana_api(settings: Settings) -> GrafanaApi | None:
    if not (settings.grafana_url and settings.grafana_token):
        return None
    return GrafanaApi.from_url(
        settings.grafana_url,
        credential=TokenAuth(settings.grafana_token.get_secret_value()),
        timeout=settings.sink_timeout_seconds,
    )


def build_notifiers(settings: Settings) -> list[Notifier]:
    """Slack (bot token over webhook) and Grafana when configured; the outbox stands in otherwise."""
    outbox = settings.data_dir / OUTBOX_FILE
    notifiers: list[Notifier] = []
    if (client := slack_bot(settings)) and settings.slack_channel:
        notifiers.append(SlackBotNotifier(client, settings.slack_channel, settings.grafana_url))
    elif hook := slack_webhook(settings):
        notifiers.append(SlackWebhookNotifier(hook, settings.grafana_url, settings.slack_webhook_uncertain))
    else:
        notifiers.append(OutboxNotifier(outbox, "slack", settings.grafana_url))
    if api := grafana_api(settings):
        notifiers.append(GrafanaNotifier(api, in_flight=settings.sink_timeout_seconds))
    else:
        notifiers.append(OutboxNotifier(outbox, "grafana", settings.grafana_url))
    return notifiers


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        concurrency=settings.worker_concurrency,
        llm_concurrency=settings.llm_concurrency,
        llm_deadline=settings.analyst_deadline_seconds,
        llm_budget_tokens=settings.llm_budget_tokens,
        llm_budget_seconds=settings.llm_budget_seconds,
        max_attempts=settings.delivery_max_attempts,
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
        lease=settings.lease_seconds,
    )


def shared_budget(settings: Settings, registry: CollectorRegistry) -> Budget | None:
    """With the Redis store and a limit set, one budget for every replica; else each process's own."""
    if settings.store_backend != "redis" or not (settings.llm_budget_tokens or settings.llm_budget_seconds):
        return None
    import redis  # only Redis deployments need the client
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from alert_webhooks.redis_budget import RedisBudget

    # The scheduler asks on the event loop: one short try, and a Redis that is away means "spent".
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    return RedisBudget(
        client,
        settings.llm_budget_tokens,
        settings.llm_budget_seconds,
        hold=2 * settings.analyst_deadline_seconds + 60,  # longer than any refinement runs
        registry=registry,
    )
def job_lease(settings: Settings) -> JobLease | None:
    """With Redis (several replicas) each scheduled job runs once per cluster, under a lease as long
    as a delivery job's; one SQLite process needs none."""
    if settings.store_backend != "redis":
        return None
    return JobLease.from_url(settings.redis_url, settings.lease_seconds)


def register_prune(scheduler: Scheduler, service: Service) -> None:
    """Forget history older than the retention, hourly (once per cluster with Redis)."""
    retention = service.settings.retention_days * 86400

    async def prune() -> None:
        removed = await asyncio.to_thread(service.store.prune, time.time() - retention)
        log.info("pruned %d records older than %.0f days", removed, retention / 86400)

    scheduler.add_job("prune", PRUNE_CRON, prune)


def build_service(settings: Settings, registry: CollectorRegistry | None = None) -> Service:
    store = build_store(settings)
    metrics = ServiceMetrics.create(registry or CollectorRegistry())
    # The analyst's metrics go to the service's registry, so /metrics shows them too.
    analyst = build_analyst(settings, registry=metrics.registry)
    # Notifications are routed to the SRE, security or efficiency analyst (docs/analysts.md).
    specialists = AlertSpecialists(analyst, for_service(settings), metrics.registry)
    worker = Worker(
        store,
        build_notifiers(settings),
        specialists,
        metrics,
        worker_config(settings),
        budget=shared_budget(settings, metrics.registry),
        shadow=build_shadow(settings, metrics.registry),
    )
    pages = PageReader(settings, settings.read_processes) if settings.read_processes else None
    return Service(settings, store, metrics, worker, analyst, pages)
