"""schemathesis against the published OpenAPI schema of a running ``llm-sre serve`` with a token:
every operation, every check, valid and invalid data, then the stateful phase (create → read →
replace → delete through OpenAPI links). Zero failures is the contract: the published API is the
real API, so a route that answers a status it does not document, or accepts what its schema
refuses, fails here."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis import DataGenerationMethod
from schemathesis.specs.openapi import stateful as openapi_stateful
from schemathesis.specs.openapi.checks import ensure_resource_availability, negative_data_rejection
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from llm_sre.processes import ManagedProcess, free_port
from tests.webhooks.conftest import AUTH, notification, serve

pytestmark = pytest.mark.e2e

# FastAPI publishes OpenAPI 3.1, which schemathesis 3.x supports behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()

# Bounded so that the whole module stays well under 90 s on a shared 2-core machine.
EXAMPLES = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# What one answer tells the next request: FastAPI publishes no links, so the stateful phase is given
# the resource flows here (source, status, target, parameters).
INCIDENT_ID = {"incident_id": "$response.body#/incident_id"}
LINKS: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("/api/v1/knowledge", "POST", "201", "/api/v1/knowledge/{doc_id}", {"doc_id": "$response.body#/id"}),
    ("/alertmanager", "POST", "200", "/api/v1/incidents/{incident_id}", INCIDENT_ID),
    ("/api/v1/analyze", "POST", "200", "/api/v1/analyze/{incident_id}", INCIDENT_ID),
]


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
    loaded = schemathesis.from_uri(
        f"http://127.0.0.1:{service}/openapi.json", base_url=f"http://127.0.0.1:{service}"
    )
    for source, method, code, target, parameters in LINKS:
        for target_method in loaded[target]:
            loaded.add_link(
                source=loaded[source][method],
                target=loaded[target][target_method],
                status_code=code,
                parameters=parameters,
            )
    return loaded


def _typed(text: str, schema: dict[str, Any]) -> Any:
    """A query string value as the server types it (FastAPI: the declared type, else the text)."""
    if {"integer", "number"} & {s.get("type") for s in schema.get("anyOf", [schema])}:
        with contextlib.suppress(ValueError):
            return int(text)
    return text


def _sent_query_is_valid(response: Any, case: schemathesis.Case) -> bool:
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    for param in case.operation.query:
        schema = param.definition["schema"]
        if param.name not in sent:
            if param.is_required:
                return False
        elif not Draft202012Validator(schema).is_valid(_typed(sent[param.name][-1], schema)):
            return False
    return True


def negative_data_rejected(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis' ``negative_data_rejection``, judged on what reached the server. Written here
    because schemathesis 3.x negates a query parameter in JSON types that a query string cannot
    carry: ``service: []`` or ``None`` is sent as no parameter and ``service: 5`` as the valid
    text ``"5"``, then the 200 is reported as accepted invalid data. Bodies and paths are judged
    as generated."""
    meta, operation = case.meta, case.operation
    negated = [
        part is not None and part.is_negative and bool(declared)
        for part, declared in (
            (meta and meta.body, operation.body),
            (meta and meta.path_parameters, operation.path_parameters),
            (meta and meta.headers, operation.headers),
        )
    ]
    only_query = meta is not None and not any(negated)
    if only_query and _sent_query_is_valid(response, case):
        return None
    return negative_data_rejection(ctx, response, case)


def check(response: Any, case: schemathesis.Case, *extra: Any) -> None:
    """Every check schemathesis has (status codes, content types, headers, schemas, negative data
    rejected, auth not ignored, and the stateful ones passed in ``extra``)."""
    case.validate_response(
        response,
        excluded_checks=(negative_data_rejection,),
        additional_checks=(negative_data_rejected, *extra),
    )


schema = schemathesis.from_pytest_fixture("api_schema", data_generation_methods=DataGenerationMethod.all())


@schema.parametrize()
@EXAMPLES
def test_every_operation_answers_as_published(case: schemathesis.Case) -> None:
    response = case.call(headers=AUTH, timeout=15)
    check(response, case)


def _links_first(machine: Any) -> bool:
    # schemathesis 3.x blocks every entry rule while *any* bundle holds a response, including the
    # catch-all one that no link reads from, so one unlinked answer (a 422) ends the run with
    # "No progress can be made"; only responses that links can follow should take precedence.
    return not any(bundle for name, bundle in machine.bundles.items() if name != "catch_all")


def test_stateful_phase_has_no_failures(
    api_schema: BaseOpenAPISchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openapi_stateful, "ensure_links_followed", _links_first)

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": AUTH, "timeout": 15}

        def validate_response(self, response: Any, case: schemathesis.Case, additional_checks: Any = ()) -> None:  # noqa: E501
            check(response, case, *additional_checks, ensure_resource_availability)

    Workflow.run(settings=settings(EXAMPLES, max_examples=10, stateful_step_count=5, database=None))


def test_the_payload_model_is_published(service: int, api_schema: BaseOpenAPISchema) -> None:
    raw = api_schema.raw_schema
    body = raw["paths"]["/alertmanager"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Notification"}
    assert {"Notification", "Alert", "IncidentPage"} <= set(raw["components"]["schemas"])


ALERT = notification()["alerts"][0]


def _request(port: int, method: str, path: str, body: Any = None) -> tuple[int, Message, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data, {**AUTH, "Content-Type": "application/json"}, method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read() or b"null")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/alertmanager", {**notification(), "alerts": [{**ALERT, "endsAt": 0}]}, ["alerts", 0, "endsAt"]),
        ("/alertmanager", {**notification(), "truncatedAlerts": True}, ["truncatedAlerts"]),
        ("/api/v1/analyze", {"timestamp": 0}, ["body", "timestamp"]),
        ("/api/v1/search", {"query": "oom", "limit": True}, ["body", "limit"]),
    ],
)
def test_what_the_schema_refuses_is_refused(service: int, path: str, body: Any, field: list[Any]) -> None:
    code, _, answer = _request(service, "POST", path, body)
    assert code == 422
    assert any(error["loc"][: len(field)] == field for error in answer["detail"]), answer


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/v1/knowledge/some-doc", "DELETE, GET, PUT"), ("/api/v1/knowledge", "GET, POST")],
)
def test_405_lists_every_method_of_the_path(service: int, path: str, allowed: str) -> None:
    code, headers, _ = _request(service, "PATCH", path, {})
    assert code == 405
    assert headers["Allow"] == allowed
