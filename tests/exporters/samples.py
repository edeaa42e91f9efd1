"""Read a registry the way PromQL does: a selector matches every series that carries its labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry


def sample_sum(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """Sum of the samples named ``name`` whose labels include ``labels`` (None if none matches).

    Exact-match ``get_sample_value`` would have to spell out every GenAI attribute, the empty
    ones included; a selector says only what the test is about, as a dashboard query would.
    """
    values = [s.value for metric in registry.collect() for s in metric.samples
              if s.name == name and labels.items() <= s.labels.items()]
    return sum(values) if values else None
