"""instrument_fastapi: stable HTTP conventions, route templates only, the catalogue's labels and buckets."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest, make_asgi_app
from prometheus_client.parser import text_string_to_metric_families

from exporters.catalogue import SPECS
from exporters.http_server import instrument_fastapi
from tests.exporters.test_exporter_scrape import promtool_check

DURATION = "http_server_request_duration_seconds"


def app_with_routes(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/documents/{doc_id}")
    def document(doc_id: str) -> dict[str, str]:
        if doc_id == "boom":
            raise RuntimeError("the vector store fell over")
        if doc_id == "gone":
            raise HTTPException(404)
        return {"id": doc_id}

    app.mount("/metrics", make_asgi_app(registry))
    instrument_fastapi(app, registry=registry)
    return app


def test_requests_are_recorded_by_route_template_with_the_catalogue_labels():
    registry = CollectorRegistry()
    client = TestClient(app_with_routes(registry), raise_server_exceptions=False)
    for doc in ("a1", "b2", "c3", "gone", "boom"):
        client.get(f"/v1/documents/{doc}")
    client.get("/not/a/route/secret-token-123")
    scrape = client.get("/metrics/").text  # the scrape itself is excluded from the metrics
    exposition = generate_latest(registry).decode()
    assert scrape.count(DURATION + "_count") == exposition.count(DURATION + "_count")
    assert "a1" not in exposition and "secret-token-123" not in exposition and "/metrics" not in exposition
    assert "body_size" not in exposition  # dropped: no panel asks for it

    family = next(f for f in text_string_to_metric_families(exposition) if f.name == DURATION)
    spec = SPECS[DURATION]
    counts = {(s.labels["http_route"], s.labels["http_response_status_code"], s.labels["error_type"]):
              s.value for s in family.samples if s.name == DURATION + "_count"}
    assert counts == {
        ("/v1/documents/{doc_id}", "200", ""): 3,
        ("/v1/documents/{doc_id}", "404", ""): 1,
        ("/v1/documents/{doc_id}", "500", "500"): 1,
        ("", "404", ""): 1,  # no route matched: an empty (absent) http_route, never the raw path
    }
    for sample in family.samples:
        assert set(sample.labels) - {"le"} <= set(spec.labels), sample.labels
    bounds = sorted({float(s.labels["le"]) for s in family.samples if s.name == DURATION + "_bucket"})
    assert bounds == [*(spec.buckets or ()), float("inf")]
    result = promtool_check(exposition)
    assert result.returncode == 0, result.stdout + result.stderr
