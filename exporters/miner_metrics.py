"""The pattern miner's counts as Prometheus series, read at scrape time.

A collector rather than counters bumped per line: the miner's hot path is one dict lookup, and
an increment of a labelled prometheus-client counter would cost more than the mining itself.
The miner keeps plain integers (:attr:`PatternMiner.mined`, :attr:`PatternMiner.stats`); this
turns them into ``llm_sre_log_miner_*`` (exporters/catalogue.py). New-pattern events are
``llm_sre_log_new_patterns_total{service, level}``, counted by :mod:`exporters.log_exporter`.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporters.catalogue import SPECS
from exporters.patterns import MALFORMED, PatternMiner


class MinerCollector(Collector):
    """Exposes one miner's lines mined, templates held, evictions and malformed input by reason."""

    def __init__(self, miner: PatternMiner) -> None:
        self.miner = miner

    def collect(self) -> Iterator[Metric]:
        miner = self.miner
        lines = SPECS["llm_sre_log_miner_lines_total"].family()
        lines.add_metric([], miner.mined)
        templates = SPECS["llm_sre_log_miner_templates"].family()
        templates.add_metric([], len(miner))
        evictions = SPECS["llm_sre_log_miner_evictions_total"].family()
        evictions.add_metric([], miner.stats["evicted"])
        malformed = SPECS["llm_sre_log_miner_malformed_lines_total"].family()
        for reason in MALFORMED:
            malformed.add_metric([reason], miner.stats[reason])
        yield from (lines, templates, evictions, malformed)
