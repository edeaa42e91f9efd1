"""The FastAPI app factory: lifespan (store, worker) and routers, nothing else.

app = create_app(Settings())                 # what ``llm-sre serve`` runs
app = create_app(settings, service=service)  # tests inject their own store, sinks and clock
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from alert_webhooks.limits import BodyLimit
from alert_webhooks.routes import analysis, errors, feedback, health, incidents, intake
from alert_webhooks.schemas import Notification
from alert_webhooks.service import Service, build_service, job_lease, register_prune
from alert_webhooks.settings import Settings
from analysts import routes as analysts_routes
from briefing import schedule as briefing_schedule
from llm_sre.scheduler import Scheduler
from operations import schedule as checklist_schedule


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or build_service(settings)
        app.state.service = svc
        app.state.analyst = svc.analyst
        svc.store.recover()
        task = asyncio.create_task(svc.worker.run())
        scheduler = app.state.scheduler = Scheduler(lease=job_lease(settings))  # once per cluster
        register_prune(scheduler, svc)  # hourly history prune
        briefing_schedule.register(scheduler, svc)  # daily digest, health reports, early warnings
        checklist_schedule.register(scheduler, svc)  # daily and weekly checklists
        scheduler.start()
        try:
            yield
        finally:
            await app.state.scheduler.stop()
            await svc.worker.stop()
            await task
            if svc.pages is not None:
                svc.pages.close()
            svc.store.close()

    app = FastAPI(
        title="llm-sre webhook",
        version="0.1.0",
        description="Alertmanager webhook → durable incidents → Slack and Grafana.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    errors.install(app)  # 405 answers list every method of the path
    for module in (intake, incidents, health, analysis, feedback):
        app.include_router(module.router)
    app.include_router(analysts_routes.router)  # /ask, /clusters, /security/detections (issue 16)

    def openapi() -> dict[str, Any]:
        # The intake route parses its body by hand (auth first); publish the payload model anyway.
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            models = Notification.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(models.pop("$defs", {}))
            components["Notification"] = models
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
