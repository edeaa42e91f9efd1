"""OTLP export: the observations reach a local OTLP/HTTP endpoint, decoded with the real protobuf types."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from exporters.catalogue import DURATION_BUCKETS
from exporters.instrument import Instruments, otlp_mirror_from_env
from exporters.otlp import OtlpMirror
from exporters.settings import get_settings
from tests.exporters.otlp_receiver import OtlpReceiver


@pytest.fixture
def receiver():
    with OtlpReceiver() as r:
        yield r


def number(point):
    return getattr(point, point.WhichOneof("value"))  # as_int or as_double


def attrs(point):
    return {a.key: a.value.string_value for a in point.attributes}


def test_llm_calls_are_exported_with_semconv_names(receiver):
    mirror = OtlpMirror.http(f"{receiver.url}/v1/metrics")
    registry = CollectorRegistry()
    inst = Instruments(registry, mirror=mirror)
    try:
        with inst.llm_call(provider="ollama", model="qwen2.5:7b") as call:
            call.tokens(input=12, output=30)
        with pytest.raises(TimeoutError), inst.llm_call(provider="ollama", model="qwen2.5:7b"):
            raise TimeoutError
        inst.cache_entries("embedding", 7)
        assert mirror.flush()
    finally:
        mirror.shutdown()
    assert receiver.content_types[0] == "application/x-protobuf"
    metrics = receiver.metrics()
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    points = {attrs(p).get("error.type", ""): p for p in duration.histogram.data_points}
    assert points[""].count == 1 and points["TimeoutError"].count == 1
    assert attrs(points[""]) == {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "ollama",
                                 "gen_ai.request.model": "qwen2.5:7b"}  # no error.type on success
    assert list(points[""].explicit_bounds) == list(DURATION_BUCKETS)
    tokens = metrics["gen_ai.client.token.usage"].histogram.data_points
    assert sorted((attrs(p)["gen_ai.token.type"], p.sum) for p in tokens) == [("input", 12), ("output", 30)]
    calls = metrics["llm_sre_llm_calls"].sum
    assert calls.is_monotonic and sum(number(p) for p in calls.data_points) == 2
    assert number(metrics["llm_sre_cache_entries"].gauge.data_points[0]) == 7
    # The Prometheus side recorded the same calls.
    failed = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "ollama",
              "gen_ai_request_model": "qwen2.5:7b", "error_type": "TimeoutError"}
    assert registry.get_sample_value("llm_sre_llm_calls_total", failed) == 1


def test_switched_on_by_the_standard_variables(receiver, monkeypatch):
    get_settings.cache_clear()
    try:
        assert otlp_mirror_from_env() is None
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)  # the SDK appends /v1/metrics
        get_settings.cache_clear()
        mirror = otlp_mirror_from_env()
        assert mirror is not None
        mirror.record("llm_sre_eval_score", 0.5, {"metric": "faithfulness"})
        assert mirror.flush()
        mirror.shutdown()
        assert "llm_sre_eval_score" in receiver.metrics()
    finally:
        get_settings.cache_clear()
