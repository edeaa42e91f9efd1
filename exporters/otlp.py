"""Optional OTLP export of the same metrics, through opentelemetry-sdk.

Switched on by the standard variables: when ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, the default :class:`~exporters.instrument.Instruments`
(and ``llm-sre exporter``) mirror every observation to an OTLP/HTTP (protobuf) exporter. The SDK
reads the other ``OTEL_*`` variables itself (headers, timeout, compression,
``OTEL_METRIC_EXPORT_INTERVAL``, ``OTEL_SERVICE_NAME``).

Names follow each side's convention: the GenAI metrics use their semantic-convention names and
attributes (``gen_ai.client.operation.duration``, ``gen_ai.operation.name``, ``server.port`` as an
int; an attribute whose value is unknown, ``error.type`` on success among them, is omitted, as
OTel specifies), so a collector translating OTLP back to Prometheus
produces exactly the catalogue's names; our own metrics keep their names without the
``_total`` or unit suffix, which that translation appends again. Histograms carry the
catalogue's buckets as the advisory boundaries.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from exporters.catalogue import SPECS, MetricSpec

# Prometheus-form name -> semantic-convention name (docs/exporters.md, "GenAI conventions").
SEMCONV_NAMES = {
    "gen_ai_client_operation_duration_seconds": "gen_ai.client.operation.duration",
    "gen_ai_client_token_usage": "gen_ai.client.token.usage",
    "gen_ai_client_operation_time_to_first_chunk_seconds": "gen_ai.client.operation.time_to_first_chunk",
    "gen_ai_client_operation_time_per_output_chunk_seconds": "gen_ai.client.operation.time_per_output_chunk",
    "gen_ai_server_time_to_first_token_seconds": "gen_ai.server.time_to_first_token",
    "gen_ai_server_time_per_output_token_seconds": "gen_ai.server.time_per_output_token",
    "gen_ai_server_request_duration_seconds": "gen_ai.server.request.duration",
}
UCUM = {"seconds": "s", "bytes": "By", "tokens": "{token}"}


def otel_name(spec: MetricSpec) -> str:
    if spec.name in SEMCONV_NAMES:
        return SEMCONV_NAMES[spec.name]
    name = spec.base_name
    if spec.unit in ("seconds", "bytes"):
        name = name.removesuffix("_" + spec.unit)
    return name


# Prometheus label -> OTel attribute where dots cannot be recovered from underscores.
_ATTRIBUTES = {
    "error_type": "error.type", "server_address": "server.address", "server_port": "server.port",
    "gen_ai_operation_name": "gen_ai.operation.name", "gen_ai_provider_name": "gen_ai.provider.name",
    "gen_ai_request_model": "gen_ai.request.model", "gen_ai_response_model": "gen_ai.response.model",
    "gen_ai_token_type": "gen_ai.token.type",
}


def otel_attributes(labels: Mapping[str, str]) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {}
    for key, value in labels.items():
        name = _ATTRIBUTES.get(key, key)
        if name != key and not value:
            continue  # unknown: the convention leaves it unset rather than empty
        attributes[name] = int(value) if name == "server.port" else value
    return attributes


class OtlpMirror:
    """Receives every observation from :class:`Instruments` and records it as an OTel metric."""

    def __init__(self, reader: MetricReader) -> None:
        self.provider = MeterProvider(metric_readers=[reader], resource=Resource.create())
        self._meter = self.provider.get_meter("llm-sre")
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def http(cls, endpoint: str | None = None) -> OtlpMirror:
        """OTLP/HTTP protobuf; ``endpoint`` is the full metrics URL (default: from ``OTEL_*``)."""
        return cls(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint)))

    def _instrument(self, spec: MetricSpec) -> Any:
        with self._lock:
            if spec.name not in self._instruments:
                kw = {"unit": UCUM.get(spec.unit, ""), "description": spec.help}
                name = otel_name(spec)
                if spec.kind == "counter":
                    made = self._meter.create_counter(name, **kw)
                elif spec.kind == "gauge":
                    made = self._meter.create_gauge(name, **kw)
                else:
                    made = self._meter.create_histogram(
                        name, explicit_bucket_boundaries_advisory=spec.buckets, **kw
                    )
                self._instruments[spec.name] = made
            return self._instruments[spec.name]

    def record(self, name: str, value: float, labels: Mapping[str, str]) -> None:
        spec = SPECS[name]
        instrument = self._instrument(spec)
        attributes = otel_attributes(labels)
        if spec.kind == "counter":
            instrument.add(value, attributes)
        elif spec.kind == "gauge":
            instrument.set(value, attributes)
        else:
            instrument.record(value, attributes)

    def flush(self, timeout_ms: float = 10_000) -> bool:
        return bool(self.provider.force_flush(timeout_ms))

    def shutdown(self) -> None:
        self.provider.shutdown()
