"""The service's own metrics, created from the shared catalogue in the service's own registry.

    m = ServiceMetrics.create(CollectorRegistry())
    m.notifications.labels(outcome="accepted").inc()

Queue gauges are set from the store at scrape time (:meth:`observe_queue`), so they are exact for
whichever backend (and however many workers) share the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from alert_webhooks.store import QueueStats
from exporters.catalogue import SPECS, metrics
from exporters.labels import BoundedLabel

_SINKS = SPECS["llm_sre_webhook_deliveries_total"].values["sink"]
_OUTCOMES = SPECS["llm_sre_webhook_deliveries_total"].values["outcome"]
# Severity comes from alert labels (user-controlled): the usual three, a few more, then _OTHER.
_severity = BoundedLabel(allowed=("critical", "warning", "info", "none"), limit=5)


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    notifications: MetricWrapperBase
    queue_depth: MetricWrapperBase
    queue_oldest_age: MetricWrapperBase
    deliveries: MetricWrapperBase
    retries: MetricWrapperBase
    dead_letters: MetricWrapperBase
    processing: MetricWrapperBase
    incidents: MetricWrapperBase
    dead_lettered: MetricWrapperBase

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ServiceMetrics:
        m = metrics(registry)
        made = cls(
            registry=registry,
            notifications=m["llm_sre_webhook_notifications_total"],
            queue_depth=m["llm_sre_webhook_queue_depth"],
            queue_oldest_age=m["llm_sre_webhook_queue_oldest_age_seconds"],
            deliveries=m["llm_sre_webhook_deliveries_total"],
            retries=m["llm_sre_webhook_delivery_retries_total"],
            dead_letters=m["llm_sre_webhook_dead_letters"],
            processing=m["llm_sre_webhook_processing_duration_seconds"],
            incidents=m["llm_sre_webhook_incidents_total"],
            dead_lettered=m["llm_sre_webhook_dead_lettered_total"],
        )
        # Every known series exists from the start at 0, so rate() and absent() work before traffic.
        for outcome in SPECS["llm_sre_webhook_notifications_total"].values["outcome"]:
            made.notifications.labels(outcome=outcome)
        for sink in _SINKS:
            made.retries.labels(sink=sink)
            for outcome in _OUTCOMES:
                made.deliveries.labels(sink=sink, outcome=outcome)
        for cause in SPECS["llm_sre_webhook_dead_lettered_total"].values["cause"]:
            made.dead_lettered.labels(cause=cause)
        return made

    def incident_opened(self, severity: str) -> None:
        self.incidents.labels(severity=_severity(severity)).inc()

    def observe_queue(self, stats: QueueStats) -> None:
        self.queue_depth.set(stats.depth)
        self.queue_oldest_age.set(stats.oldest_age_seconds)
        self.dead_letters.set(stats.dead_letters)
