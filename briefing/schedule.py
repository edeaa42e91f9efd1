"""What ``llm-sre serve`` schedules for briefings, built from the service's settings.

The app's lifespan calls :func:`register` on the service's one scheduler; nothing else of the
webhook service changes. Jobs run only when their inputs exist: the health report and the
watch need Prometheus, the health report also needs Redis (it has nowhere else to go).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from alert_webhooks.analysis.factory import build_llm
from alert_webhooks.service import grafana_api, slack_bot, slack_webhook
from alert_webhooks.settings import Settings
from alert_webhooks.store import Store
from briefing.briefer import Briefer
from briefing.digest import Digest
from briefing.engine import Config
from briefing.health import container_health
from briefing.prometheus import Prometheus
from briefing.publish import GrafanaAnnotator, RedisChannels, SlackPoster
from briefing.settings import BriefingSettings
from briefing.watch import Watch
from exporters.catalogue import MetricSet, metrics
from llm_sre.scheduler import Scheduler

if TYPE_CHECKING:
    from alert_webhooks.service import Service

log = logging.getLogger(__name__)
REPORTS_DIR = "context_reports"


def slack_poster(settings: Settings) -> SlackPoster | None:
    """The digest goes where incidents go: the same Slack clients the service builds."""
    if (client := slack_bot(settings)) and settings.slack_channel:
        return SlackPoster(client, settings.slack_channel)
    if hook := slack_webhook(settings):
        return SlackPoster(webhook=hook)
    return None


def grafana_annotator(settings: Settings) -> GrafanaAnnotator | None:
    api = grafana_api(settings)
    return GrafanaAnnotator(api) if api else None


def briefer(
    settings: Settings, bs: BriefingSettings, store: Store | None, m: MetricSet, use_llm: bool = True
) -> Briefer:
    prom = (
        Prometheus(settings.prometheus_url, timeout=bs.deadline_seconds) if settings.prometheus_url else None
    )
    return Briefer(
        prom, store, build_llm(settings) if use_llm else None, m,
        Config(horizon=bs.horizon_hours * 3600), step=bs.step_seconds, deadline=bs.deadline_seconds,
        llm_deadline=bs.llm_deadline_seconds, grounding_threshold=settings.analyst_grounding_threshold,
    )  # fmt: skip


def channels(bs: BriefingSettings, m: MetricSet) -> RedisChannels | None:
    if not bs.redis_url:
        return None
    client = aioredis.Redis.from_url(bs.redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisChannels(client, m, backlog=bs.redis_backlog,
                         names={"reports": bs.reports_channel, "alerts": bs.alerts_channel})  # fmt: skip


def register(scheduler: Scheduler, service: Service, bs: BriefingSettings | None = None) -> None:
    """Add the briefing jobs (digest, watch, container health) to the service's scheduler."""
    bs = bs or BriefingSettings()
    if bs.enabled:
        settings, m = service.settings, metrics(service.metrics.registry)
        chans = channels(bs, m)
        b = briefer(settings, bs, service.store, m)
        digest = Digest(b, bs.period_hours * 3600, slack_poster(settings), grafana_annotator(settings), chans,
                        settings.data_dir / REPORTS_DIR)  # fmt: skip
        scheduler.add_job("briefing-digest", bs.digest_cron, lambda: digest.run(time.time()))
        if b.prom is not None:
            watch = Watch(b.prom, m, chans, b.config, step=bs.step_seconds)
            scheduler.add_job("briefing-watch", bs.watch_cron, lambda: watch.check(time.time()))
            if chans is not None:
                prom = b.prom

                async def health() -> None:
                    await chans.publish("reports", await container_health(prom, time.time()))

                scheduler.add_job("container-health", bs.health_cron, health)
