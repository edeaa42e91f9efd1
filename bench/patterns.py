"""Template-mining grouping accuracy (GA) and throughput: ours against drain3, same lines, same run.

    .venv/bin/python bench/patterns.py [--lines 20000] [--loghub-lines 2000]

Corpora come from ``bench/logcorpus.py`` (labelled, generated; see its docstring). Three miners:

* ``default drain3``  - ``TemplateMiner`` with its default config, fed the raw line.
* ``drain3 + masks``  - ``TemplateMiner`` with drain3's own regex masking (IP, UUID, hex,
  numbers: the usual instructions), raw line; shows what masking alone buys.
* ``llm-sre``         - :class:`exporters.patterns.PatternMiner` fed
  :func:`exporters.logline.parse_line` messages: format-aware parsing, one-pass masking,
  secret masking, constant-token similarity.
* ``llm-sre exporter``- the same plus the log exporter's labels and counters
  (:class:`exporters.log_exporter.PatternCounter`), i.e. what ``llm-sre logs export`` sustains.

GA is loghub's: a line counts when its predicted group holds exactly its true group's lines.
The loghub-style corpora imitate six loghub datasets; the published Drain GA on the real
loghub 2k samples is printed beside them for reference, not as a like-for-like comparison.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
from logcorpus import LOGHUB_STYLE, MIXED, PUBLISHED_DRAIN_GA, generate, grouping_accuracy
from prometheus_client import CollectorRegistry

from exporters.log_exporter import PatternCounter
from exporters.logline import parse_line
from exporters.patterns import PatternMiner

DRAIN3_MASKS = (
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "UUID"),
    (r"\b(?:0x)?[0-9a-fA-F]{12,}\b", "HEX"),
    (r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?(?![A-Za-z])", "NUM"),
)


def drain3_miner(masked: bool) -> Callable[[str], str]:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if masked:
        config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN3_MASKS]
    miner = TemplateMiner(config=config)
    return lambda line: str(miner.add_log_message(line)["cluster_id"])


def ours() -> Callable[[str], str]:
    miner = PatternMiner()
    return lambda line: miner.add(parse_line(line).message).pattern_id


def exporter() -> Callable[[str], str]:
    """The whole log exporter path: parse, mine, bounded labels and three counters."""
    counter = PatternCounter(CollectorRegistry(), service="bench")
    return lambda line: counter.observe(line).pattern_id


MINERS: dict[str, Callable[[], Callable[[str], str]]] = {
    "default drain3": lambda: drain3_miner(False),
    "drain3 + masks": lambda: drain3_miner(True),
    "llm-sre": ours,
    "llm-sre exporter": exporter,
}


def measure(
    make: Callable[[], Callable[[str], str]], truth: list[str], lines: list[str]
) -> tuple[float, float]:
    mine = make()
    start = time.perf_counter()
    predicted = [mine(line) for line in lines]
    rate = len(lines) / (time.perf_counter() - start)
    return grouping_accuracy(truth, predicted), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000, help="mixed-corpus lines")
    parser.add_argument("--loghub-lines", type=int, default=2_000, help="lines per loghub-style corpus")
    args = parser.parse_args()
    corpora = [("mixed (this stack)", MIXED, args.lines)]
    corpora += [(name, templates, args.loghub_lines) for name, templates in LOGHUB_STYLE.items()]
    print(f"{'corpus':20} {'miner':16} {'GA':>6} {'lines/s':>10}  published Drain GA")
    for name, templates, count in corpora:
        rows = list(generate(templates, count))
        truth, lines = [t for t, _ in rows], [line for _, line in rows]
        results = {miner: measure(make, truth, lines) for miner, make in MINERS.items()}
        base_rate = results["default drain3"][1]
        for miner, (ga, rate) in results.items():
            published = PUBLISHED_DRAIN_GA.get(name, "")
            print(f"{name:20} {miner:16} {ga:6.3f} {rate:10,.0f}  x{rate / base_rate:.2f} speed  {published}")


if __name__ == "__main__":
    main()
