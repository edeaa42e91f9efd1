"""llm-sre exporters: metric catalogue, app instrumentation and sidecar exporters (docs/exporters.md)."""
