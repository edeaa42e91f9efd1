"""schemathesis against ``llm-sre serve``'s ask, clusters and detections operations: no 5xx, and
every answer (401, 413, 422 included) matches the published schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from llm_sre.processes import free_port
from tests.webhooks.conftest import AUTH, serve

pytestmark = pytest.mark.e2e
schemathesis.experimental.OPEN_API_3_1.enable()

MINE = r"^/api/v1/(ask|clusters|security/detections)$"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseOpenAPISchema]:
    port = free_port()
    env = {"OLLAMA_HOST": "http://127.0.0.1:9", "LLM_SRE_ASK_MAX_CHARS": "300"}
    proc = serve(tmp_path_factory.mktemp("analysts-openapi"), port, env)
    try:
        yield schemathesis.from_uri(f"http://127.0.0.1:{port}/openapi.json", base_url=f"http://127.0.0.1:{port}")
    finally:
        proc.stop()


schema = schemathesis.from_pytest_fixture("api_schema").include(path_regex=MINE)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_schema(case: schemathesis.Case) -> None:
    response = case.call(headers=AUTH, timeout=15)
    case.validate_response(response)
    assert response.status_code < 500
