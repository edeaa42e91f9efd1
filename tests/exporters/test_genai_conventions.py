"""Every GenAI instrument llm-sre exports, checked against the OpenTelemetry GenAI conventions.

The table below is taken from open-telemetry/semantic-conventions **v1.41.0**,
``docs/gen-ai/gen-ai-metrics.md`` (the last release that carries the GenAI metrics before they
moved to their own repository): for each metric its instrument type, UCUM unit, the
``ExplicitBucketBoundaries`` it SHOULD be specified with, and its attributes (required,
conditionally required and recommended). The catalogue, the Prometheus exposition and the OTLP
mirror must all agree with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporters import catalogue
from exporters.catalogue import SPECS
from exporters.instrument import Instruments, Server
from exporters.otlp import OtlpMirror
from tests.exporters.test_exporter_scrape import promtool_check

SPEC_VERSION = "v1.41.0"
DURATION = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKENS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
TPOT = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
# Attributes every GenAI metric of the document lists.
COMMON = frozenset({"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                    "gen_ai.response.model", "server.address", "server.port"})
# name: (instrument, unit, buckets, attributes)
TABLE: dict[str, tuple[str, str, tuple[float, ...], frozenset[str]]] = {
    "gen_ai.client.token.usage": ("histogram", "{token}", TOKENS, COMMON | {"gen_ai.token.type"}),
    "gen_ai.client.operation.duration": ("histogram", "s", DURATION, COMMON | {"error.type"}),
    "gen_ai.client.operation.time_to_first_chunk": ("histogram", "s", DURATION, COMMON),
    "gen_ai.client.operation.time_per_output_chunk": ("histogram", "s", DURATION, COMMON),
    "gen_ai.server.request.duration": ("histogram", "s", DURATION, COMMON | {"error.type"}),
    "gen_ai.server.time_per_output_token": ("histogram", "s", TPOT, COMMON),
    "gen_ai.server.time_to_first_token": ("histogram", "s", TTFT, COMMON),
}
UNIT_SUFFIX = {"s": "_seconds", "{token}": ""}  # OTel -> Prometheus: annotations in {} are dropped


def prometheus_name(name: str) -> str:
    return name.replace(".", "_") + UNIT_SUFFIX[TABLE[name][1]]


def prometheus_labels(attributes: frozenset[str]) -> set[str]:
    return {a.replace(".", "_") for a in attributes}


def record_everything(inst: Instruments) -> None:
    """One streamed call with server timings, one failed call: every GenAI instrument gets a point."""
    server = Server.from_url("http://vllm:8000/v1")
    with inst.llm_call(provider="vllm", model="Qwen/Qwen2.5-7B-Instruct", server=server) as call:
        call.output_chunk()
        call.output_chunk()
        call.tokens(input=12, output=30)
        call.response_model("Qwen/Qwen2.5-7B-Instruct")
        call.server_timing(duration=1.0, time_to_first_token=0.1, time_per_output_token=0.02)
    with pytest.raises(TimeoutError), inst.llm_call(provider="vllm", model="m", server=server) as call:
        call.tokens(input=3)
        raise TimeoutError
    inst.record_server_timing(provider="vllm", model="m", server=server, duration=30.0,
                              time_to_first_token=0.5, error="500")


def test_the_catalogue_exports_exactly_the_documented_genai_instruments():
    exported = {name for name, spec in SPECS.items() if spec.group == "genai"}
    assert exported == {prometheus_name(n) for n in TABLE}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_catalogue_entry_matches_the_spec(name):
    instrument, unit, buckets, attributes = TABLE[name]
    spec = SPECS[prometheus_name(name)]
    assert spec.kind == instrument
    assert spec.buckets == buckets
    assert set(spec.labels) == prometheus_labels(attributes)
    assert (spec.unit == "seconds") == (unit == "s")


def test_the_prometheus_exposition_matches_the_spec_and_passes_promtool():
    registry = CollectorRegistry()
    record_everything(Instruments(registry))
    exposition = generate_latest(registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    for name, (_, _, buckets, attributes) in TABLE.items():
        family = families[prometheus_name(name)]
        assert family.type == "histogram", name
        allowed = prometheus_labels(attributes)
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == allowed, (name, sample.labels)
        bounds = sorted({float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")})
        assert bounds == [*buckets, float("inf")], name
    # Values that show the conventions were followed, not just the names.
    ok = {"server_address": "vllm", "server_port": "8000",
          "gen_ai_response_model": "qwen/qwen2.5-7b-instruct"}
    tpoc = families["gen_ai_client_operation_time_per_output_chunk_seconds"]
    assert any(s.name.endswith("_count") and s.value == 1 and ok.items() <= s.labels.items()
               for s in tpoc.samples)
    failed_server = [s for s in families["gen_ai_server_request_duration_seconds"].samples
                     if s.name.endswith("_count") and s.labels["error_type"] == "500"]
    assert [s.value for s in failed_server] == [1.0]
    # A failed request has no server token timings (the convention counts successful responses).
    assert sum(s.value for s in families["gen_ai_server_time_to_first_token_seconds"].samples
               if s.name.endswith("_count")) == 1
    result = promtool_check(exposition)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_otlp_mirror_matches_the_spec():
    reader = InMemoryMetricReader()
    mirror = OtlpMirror(reader)
    record_everything(Instruments(CollectorRegistry(), mirror=mirror))
    exported = {m.name: m for rm in reader.get_metrics_data().resource_metrics
                for sm in rm.scope_metrics for m in sm.metrics}
    for name, (_, unit, buckets, attributes) in TABLE.items():
        metric = exported[name]
        assert metric.unit == unit, name
        for point in metric.data.data_points:
            assert tuple(point.explicit_bounds) == buckets, name
            assert set(point.attributes) <= attributes, (name, dict(point.attributes))
            assert {"gen_ai.operation.name", "gen_ai.provider.name"} <= set(point.attributes)  # Required
            assert point.attributes["server.port"] == 8000  # an int, as the spec types it
    mirror.shutdown()


def test_the_catalogue_cites_the_same_spec_version():
    assert f"semantic-conventions {SPEC_VERSION}" in Path(catalogue.__file__).read_text()
