"""llm-sre exporters: the metric catalogue, app instrumentation and the sidecar exporters (docs/exporters.md)."""
