"""The checklists ``llm-sre serve`` runs on a schedule; the deploy list runs from pipelines instead.

The app's lifespan calls :func:`register` on the service's one scheduler. Results land on the
service's ``/metrics`` (``llm_sre_check_status``) and a flip to FAIL is posted to Slack.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from llm_sre.scheduler import Scheduler
from operations.publish import scheduled_run
from operations.settings import OperationsSettings
from operations.yamlfile import ConfigError

if TYPE_CHECKING:
    from alert_webhooks.service import Service

log = logging.getLogger(__name__)


def register(scheduler: Scheduler, service: Service, settings: OperationsSettings | None = None) -> None:
    """One job per scheduled checklist (``LLM_SRE_CHECKLIST_DAILY_CRON``, ``..._WEEKLY_CRON``)."""
    ops = settings or OperationsSettings()
    for name, cron in ops.schedules().items():

        async def run(name: str = name) -> None:
            try:
                await scheduled_run(name, ops, registry=service.metrics.registry)
            except ConfigError as exc:  # a bad thresholds file must not stop the service
                log.error("checklist %s not run: %s", name, exc)

        scheduler.add_job(f"checklist-{name}", cron, run)
