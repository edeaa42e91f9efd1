"""schemathesis against the published OpenAPI schema of a running ``llm-sre serve``: no 5xx, and every
answer matches what the schema declares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from llm_sre.processes import ManagedProcess, free_port
from tests.webhooks.conftest import AUTH, serve

pytestmark = pytest.mark.e2e

# FastAPI publishes OpenAPI 3.1, which schemathesis 3.x supports behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()

# The webhook service's own operations (the analysis API is tested by its owner).
MINE = r"^/(alertmanager|api/v1/incidents.*|healthz|readyz|metrics)$"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    proc: ManagedProcess = serve(
        tmp_path_factory.mktemp("openapi"), port, {"LLM_SRE_WEBHOOK_MAX_BODY_BYTES": "65536"}
    )
    try:
        yield port
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def api_schema(service: int) -> BaseOpenAPISchema:
    return schemathesis.from_uri(
        f"http://127.0.0.1:{service}/openapi.json", base_url=f"http://127.0.0.1:{service}"
    )


schema = schemathesis.from_pytest_fixture("api_schema").include(path_regex=MINE)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_schema(case: schemathesis.Case) -> None:
    response = case.call(headers=AUTH, timeout=10)
    case.validate_response(response)
    assert response.status_code < 500


def test_the_payload_model_is_published(service: int, api_schema: BaseOpenAPISchema) -> None:
    raw = api_schema.raw_schema
    body = raw["paths"]["/alertmanager"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Notification"}
    assert {"Notification", "Alert", "IncidentPage"} <= set(raw["components"]["schemas"])
