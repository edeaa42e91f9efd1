"""HTTP server metrics for the user's FastAPI app, in the stable OpenTelemetry HTTP conventions.

One line in the app::

    from exporters.http_server import instrument_fastapi
    instrument_fastapi(app)          # http_server_request_duration_seconds on prometheus-client's REGISTRY

The work is done by two maintained OpenTelemetry packages, not by middleware of ours:
``opentelemetry-instrumentation-fastapi`` measures each request and labels it with the route
*template* FastAPI matched (``/items/{item_id}``; a request that matches no route has no
``http_route`` at all, so raw paths never become series), and ``opentelemetry-exporter-prometheus``
exposes the result through prometheus-client, beside the app's other metrics on the same
``/metrics``. We chose it over prometheus-fastapi-instrumentator because that library's names and
labels (``http_request_duration_seconds{handler, method, status}``) are its own: matching the
convention would mean writing the instrumentation function by hand, which is what this avoids.

What it exports (HTTP semantic conventions, stable since semantic-conventions v1.23.0):
``http_server_request_duration_seconds`` (histogram; ``http_request_method``, ``http_route``,
``http_response_status_code``, ``url_scheme``, ``network_protocol_version``, ``error_type`` on
5xx; buckets 0.005 … 10 s) and ``http_server_active_requests``. Both are in the catalogue; the
instrumentation's body-size histograms are dropped.

The FastAPI instrumentation emits the old ``http.server.duration`` (milliseconds) names unless
``OTEL_SEMCONV_STABILITY_OPT_IN`` contains ``http``; the library reads that variable once per
process, so :func:`instrument_fastapi` adds ``http`` to it before the first read and refuses to
go on if another instrumentation already fixed the old mode. Limits: the Prometheus exporter is
a custom collector, so prometheus-client's multiprocess mode (``exporters.multiprocess``) does
not see these two metrics; with several workers, scrape each or export over OTLP instead.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation._semconv import (
    OTEL_SEMCONV_STABILITY_OPT_IN,
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _StabilityMode,
)
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import DropAggregation, View
from prometheus_client import REGISTRY, CollectorRegistry

# Scrapes and probes are not traffic: counting them would flatter the latency panels.
DEFAULT_EXCLUDED = "/metrics,/healthz,/readyz"
_STABLE = (_StabilityMode.HTTP, _StabilityMode.HTTP_DUP)


def _opt_in_to_stable_http() -> None:
    # The library's documented switch, set (not read) here: our settings never read it, the
    # instrumentation does, once, when the first app is instrumented.
    modes = [m.strip() for m in os.environ.get(OTEL_SEMCONV_STABILITY_OPT_IN, "").split(",") if m.strip()]
    if "http" not in modes and "http/dup" not in modes:
        os.environ[OTEL_SEMCONV_STABILITY_OPT_IN] = ",".join([*modes, "http"])
    _OpenTelemetrySemanticConventionStability._initialize()
    mode = _OpenTelemetrySemanticConventionStability._get_opentelemetry_stability_opt_in_mode(
        _OpenTelemetryStabilitySignalType.HTTP)
    if mode not in _STABLE:
        raise RuntimeError(
            "OpenTelemetry was initialised with the old HTTP conventions before instrument_fastapi ran; "
            f"set {OTEL_SEMCONV_STABILITY_OPT_IN}=http in the environment, or call instrument_fastapi first"
        )


def instrument_fastapi(app: Any, *, registry: CollectorRegistry | None = None,
                       excluded_urls: str = DEFAULT_EXCLUDED) -> MeterProvider:
    """Record every request of ``app`` as ``http_server_request_duration_seconds`` in ``registry``.

    Returns the meter provider (its own, not the global one, so other OpenTelemetry users of
    the process are unaffected); call ``shutdown()`` on it to detach from the registry.
    """
    _opt_in_to_stable_http()
    # No target_info (it carries a random service.instance.id) and no otel_scope_* labels: the
    # series stay as small as the convention's own attribute set.
    reader = PrometheusMetricReader(disable_target_info=True, scope_info_enabled=False,
                                    registry=REGISTRY if registry is None else registry)
    # The request and response body-size histograms (still "development" in the convention) would
    # double the series for a question no panel asks; only duration and active requests stay.
    body_sizes = View(instrument_name="http.server.*.body.size", aggregation=DropAggregation())
    provider = MeterProvider(metric_readers=[reader], views=[body_sizes])
    FastAPIInstrumentor.instrument_app(app, meter_provider=provider, excluded_urls=excluded_urls)
    return provider
