# ruff: noqa: E501 - the benchmark's settings table reads best one setting per line
"""Template mining on Loghub-2k: llm-sre against drain3, per system and on average, one run.

    .venv/bin/python bench/loghub.py --data /tmp/loghub [--runs 3] [--systems HDFS,BGL]

``--data`` is a checkout of github.com/logpai/loghub (the 16 annotated 2,000-line samples,
``<System>/<System>_2k.log`` and ``<System>_2k.log_structured.csv``); this script does not
download it. The data is for research use: read it from outside the repository, never commit it::

    git clone --depth 1 https://github.com/logpai/loghub /tmp/loghub

Every miner gets the raw lines and each system's header format from the benchmark's table (the
user's ``--format``), cut by the same :class:`exporters.logformat.LogFormat`. Miners:

* ``llm-sre``        - :class:`exporters.patterns.PatternMiner`, one configuration for all systems.
* ``llm-sre detected`` - the same without the table's format, as ``llm-sre logs mine`` runs
  with no ``--format``: a known header detected from the first lines, else per-line parsing.
* ``drain3 default`` - drain3's ``TemplateMiner`` with its default config.
* ``drain3 tuned``   - drain3 with the benchmark's per-system masks, similarity threshold and
  depth (logpai/logparser ``benchmark/Drain_benchmark.py``), the setting Drain's published
  figures come from.

Printed per system: GA (loghub's grouping accuracy: a line is right when the lines sharing its
predicted template are exactly the lines sharing its true one), PA (the template, with every
``<...>`` mask read as ``<*>``, equals the true one), lines/s (median of ``--runs`` fresh runs,
CPU time, header cut included for every miner; the miners take turns within each round, so load
from other processes falls on all of them alike), templates found against the truth,
and false new-pattern events: after the first 20% of a file, a "new pattern" for a line whose
true template was already seen (share of the lines after that point). The average rows add the
median over systems of each miner's speed ratio to drain3 default, and the worst false-new rate.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
from logcorpus import grouping_accuracy

from exporters.logformat import DETECT_LINES, LogFormat, detect, parse
from exporters.patterns import PatternMiner

# Per-system settings of logpai/logparser's benchmark/Drain_benchmark.py (Apache-2.0).
SETTINGS: dict[str, dict] = {
    "HDFS": {"log_format": "<Date> <Time> <Pid> <Level> <Component>: <Content>", "regex": [r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], "st": 0.5, "depth": 4},
    "Hadoop": {"log_format": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>", "regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Spark": {"log_format": "<Date> <Time> <Level> <Component>: <Content>", "regex": [r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"], "st": 0.5, "depth": 4},
    "Zookeeper": {"log_format": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>", "regex": [r"(/|)(\d+\.){3}\d+(:\d+)?"], "st": 0.5, "depth": 4},
    "BGL": {"log_format": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>", "regex": [r"core\.\d+"], "st": 0.5, "depth": 4},
    "HPC": {"log_format": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>", "regex": [r"=\d+"], "st": 0.5, "depth": 4},
    "Thunderbird": {"log_format": r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>", "regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Windows": {"log_format": "<Date> <Time>, <Level>                  <Component>    <Content>", "regex": [r"0x.*?\s"], "st": 0.7, "depth": 5},
    "Linux": {"log_format": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>", "regex": [r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"], "st": 0.39, "depth": 6},
    "Android": {"log_format": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>", "regex": [r"(/[\w-]+)+", r"([\w-]+\.){2,}[\w-]+", r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b"], "st": 0.2, "depth": 6},
    "HealthApp": {"log_format": r"<Time>\|<Component>\|<Pid>\|<Content>", "regex": [], "st": 0.2, "depth": 4},
    "Apache": {"log_format": r"\[<Time>\] \[<Level>\] <Content>", "regex": [r"(\d+\.){3}\d+"], "st": 0.5, "depth": 4},
    "Proxifier": {"log_format": r"\[<Time>\] <Program> - <Content>", "regex": [r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"], "st": 0.6, "depth": 3},
    "OpenSSH": {"log_format": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>", "regex": [r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"], "st": 0.6, "depth": 5},
    "OpenStack": {"log_format": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>", "regex": [r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"], "st": 0.5, "depth": 5},
    "Mac": {"log_format": r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>", "regex": [r"([\w-]+\.){2,}[\w-]+"], "st": 0.7, "depth": 6},
}
# Drain's GA on Loghub-2k as published (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019).
PUBLISHED_DRAIN_GA = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967, "BGL": 0.963, "HPC": 0.887,
    "Thunderbird": 0.955, "Windows": 0.997, "Linux": 0.690, "Android": 0.911, "HealthApp": 0.780,
    "Apache": 1.000, "Proxifier": 0.527, "OpenSSH": 0.788, "OpenStack": 0.733, "Mac": 0.787,
}
WARM_UP = 0.2
_MASK_TOKEN = re.compile(r"<[^<>\s]*>")
_SPACE = re.compile(r"\s+")

# A miner: raw lines in; per line (group id, template, new?) out.
Mined = tuple[str, str, bool]
Miner = Callable[[list[str]], list[Mined]]


@dataclass(frozen=True)
class Dataset:
    system: str
    lines: list[str]
    truth: list[str]  # true template per line
    templates: dict[str, str]  # true template text by event id


def load(data: Path, system: str) -> Dataset:
    lines = (data / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    with (data / system / f"{system}_2k.log_structured.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(lines):
        raise SystemExit(f"{system}: {len(lines)} log lines but {len(rows)} labelled rows")
    return Dataset(system, lines, [r["EventId"] for r in rows],
                   {r["EventId"]: r["EventTemplate"] for r in rows})


def _normal(template: str) -> str:
    return _SPACE.sub(" ", _MASK_TOKEN.sub("<*>", template)).strip()


def parsing_accuracy(data: Dataset, templates: list[str]) -> float:
    """Share of lines whose final template equals the true one (masks read as ``<*>``)."""
    hits = sum(_normal(t) == _normal(data.templates[e]) for t, e in zip(templates, data.truth, strict=True))
    return hits / len(templates)


def false_new(data: Dataset, new: list[bool]) -> float:
    start = int(len(data.truth) * WARM_UP)
    seen = set(data.truth[:start])
    false = 0
    for event, is_new in zip(data.truth[start:], new[start:], strict=True):
        false += is_new and event in seen
        seen.add(event)
    return false / (len(data.truth) - start)


def llm_sre(system: str, detected: bool = False) -> Miner:
    given = LogFormat(SETTINGS[system]["log_format"])

    def run(lines: list[str]) -> list[Mined]:
        # As `llm-sre logs mine` and `logs export` without --format: detect the header from the
        # first lines; a line without it is parsed on its own (exporters.logline).
        fmt = detect(lines[:DETECT_LINES]) if detected else None
        miner = PatternMiner()
        out = []
        for line in lines:
            m = miner.add(parse(line, fmt).message if detected else given.message(line))
            out.append((m.pattern_id, m.pattern_id, m.new))
        templates = miner.templates()
        return [(pid, templates[pid], new) for pid, _, new in out]

    return run


def drain3(system: str, tuned: bool) -> Miner:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if tuned:
        setting = SETTINGS[system]
        config.drain_sim_th, config.drain_depth = setting["st"], setting["depth"]
        config.masking_instructions = [MaskingInstruction(rx, "*") for rx in setting["regex"]]

    fmt = LogFormat(SETTINGS[system]["log_format"])

    def run(lines: list[str]) -> list[Mined]:
        miner = TemplateMiner(config=config)
        out = []
        for line in lines:
            r = miner.add_log_message(fmt.message(line))
            out.append((str(r["cluster_id"]), r["change_type"] == "cluster_created"))
        templates = {str(c.cluster_id): c.get_template() for c in miner.drain.clusters}
        return [(cid, templates[cid], new) for cid, new in out]

    return run


@dataclass
class Row:
    ga: float
    pa: float
    rate: float
    found: int
    false_new: float


def measure(miners: dict[str, Miner], data: Dataset, runs: int) -> dict[str, Row]:
    """Every miner ``runs`` times on fresh state, rounds interleaved so load from other
    processes falls on all miners alike; lines/s is the median of the runs."""
    rates: dict[str, list[float]] = {name: [] for name in miners}
    mined: dict[str, list[Mined]] = {}
    for _ in range(runs):
        for name, miner in miners.items():
            start = time.process_time()
            mined[name] = miner(data.lines)
            rates[name].append(len(data.lines) / (time.process_time() - start))
    rows = {}
    for name, out in mined.items():
        ids = [m[0] for m in out]
        rows[name] = Row(grouping_accuracy(data.truth, ids), parsing_accuracy(data, [m[1] for m in out]),
                         statistics.median(rates[name]), len(set(ids)), false_new(data, [m[2] for m in out]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a loghub checkout")
    parser.add_argument("--runs", type=int, default=3, help="fresh runs per miner; lines/s is their median")
    parser.add_argument("--systems", default=",".join(SETTINGS), help="comma-separated subset")
    args = parser.parse_args()
    miners = ("llm-sre", "llm-sre detected", "drain3 default", "drain3 tuned")
    totals: dict[str, list[Row]] = {name: [] for name in miners}
    print(f"{'system':12} {'miner':15} {'GA':>6} {'PA':>6} {'lines/s':>9} {'speed':>6} {'found/true':>10} "
          f"{'false new':>9}  published Drain GA")
    for system in args.systems.split(","):
        data = load(args.data, system)
        rows = measure({"llm-sre": llm_sre(system), "llm-sre detected": llm_sre(system, detected=True),
                        "drain3 default": drain3(system, tuned=False),
                        "drain3 tuned": drain3(system, tuned=True)}, data, args.runs)
        base = rows["drain3 default"].rate
        for name, row in rows.items():
            totals[name].append(row)
            print(f"{system:12} {name:15} {row.ga:6.3f} {row.pa:6.3f} {row.rate:9,.0f} x{row.rate / base:5.2f} "
                  f"{row.found:5}/{len(data.templates):<4} {row.false_new:9.2%}  {PUBLISHED_DRAIN_GA[system]:.3f}")
    published = statistics.mean(PUBLISHED_DRAIN_GA[s] for s in args.systems.split(","))
    base = totals["drain3 default"]
    for name, rows_ in totals.items():
        rate = statistics.median(r.rate for r in rows_)
        ratio = statistics.median(r.rate / b.rate for r, b in zip(rows_, base, strict=True))
        print(f"{'average':12} {name:15} {statistics.mean(r.ga for r in rows_):6.3f} "
              f"{statistics.mean(r.pa for r in rows_):6.3f} {rate:9,.0f} (median) x{ratio:.2f} (median ratio)  "
              f"false new {statistics.mean(r.false_new for r in rows_):.2%} (max {max(r.false_new for r in rows_):.2%})"
              f"  published Drain {published:.3f}")


if __name__ == "__main__":
    main()
