"""Loading recorded or generated data into a Prometheus data directory with promtool.

``promtool tsdb create-blocks-from openmetrics`` cuts its input into 2-hour blocks and reads the
whole input once per block, so a week in one file is read ~90 times (50 s for 11 MB here). Cut into
6-hour files first, the same data is read about three times over: the cut is the only reason this
module exists. Recording rules are evaluated through a running Prometheus that already holds the raw
data and backfilled the same way (:func:`recorded_openmetrics`); alerting rules are replayed by
:func:`briefing.backtest.alerts_from_rules`.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from llm_sre.processes import free_port, prometheus, require

CHUNK_SECONDS = 6 * 3600  # a multiple of promtool's 2-hour blocks


def split_openmetrics(text: str, chunk: float = CHUNK_SECONDS) -> list[str]:
    """The exposition cut by sample time into aligned chunks, each a valid file with its TYPE lines."""
    chunks: dict[int, list[str]] = {}
    header: str | None = None
    seen: dict[int, str | None] = {}
    for line in text.splitlines():
        if line.startswith("# EOF") or not line:
            continue
        if line.startswith("#"):
            header = line
            continue
        key = int(float(line.rsplit(" ", 1)[1]) // chunk)
        out = chunks.setdefault(key, [])
        if seen.get(key) != header and header is not None:
            out.append(header)
            seen[key] = header
        out.append(line)
    return ["\n".join(lines) + "\n# EOF\n" for _, lines in sorted(chunks.items())]


def backfill_openmetrics(text: str, data_dir: Path, workers: int = 4) -> None:
    promtool = require("promtool")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llm-sre-backfill-") as tmp:
        paths = []
        for n, part in enumerate(split_openmetrics(text)):
            path = Path(tmp) / f"{n:04d}.om"
            path.write_text(part)
            paths.append(path)

        def one(path: Path) -> None:
            argv = [promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(data_dir)]
            subprocess.run(argv, check=True, capture_output=True, timeout=120)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, paths))


def recorded_openmetrics(
    url: str,
    rule_files: Iterable[Path],
    start: float,
    end: float,
    *,
    reads: Iterable[str] = (),
    step: float = 300.0,
    timeout: float = 120.0,
) -> str:
    """The recording rules' results over ``[start, end]`` as OpenMetrics, one range query per rule.

    What ``promtool tsdb create-blocks-from rules`` does, minus its cost: promtool queries every rule
    once per 2-hour block, and on freshly backfilled data (a hundred small blocks) that took more than
    five minutes for a week here; one query per rule takes seconds. Only rules whose names the
    alerting rules or ``reads`` (other expressions, e.g. the briefing's) mention are recorded, and
    rules that read other recording rules (a 30-day ratio built from the 5-minute one) are skipped:
    nothing recorded exists yet.
    """
    every = [rule for path in rule_files for group in yaml.safe_load(path.read_text())["groups"]
             for rule in group["rules"]]  # fmt: skip
    wanted = " ".join([*(r["expr"] for r in every if "alert" in r), *reads])
    names = {rule["record"] for rule in every if "record" in rule}
    rules = [r for r in every if "record" in r and re.search(rf"{re.escape(r['record'])}\b", wanted)]
    lines: dict[str, list[str]] = {}
    with httpx.Client(timeout=timeout) as http:
        for rule in rules:
            if any(name in rule["expr"] for name in names):
                continue
            params = {"query": rule["expr"], "start": start, "end": end, "step": step}
            resp = http.get(f"{url}/api/v1/query_range", params=params)
            resp.raise_for_status()
            for result in resp.json()["data"]["result"]:
                labels = {**result["metric"], **rule.get("labels", {})}
                labels.pop("__name__", None)
                text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                lines.setdefault(rule["record"], []).extend(
                    f"{rule['record']}{{{text}}} {v} {float(t):.0f}" for t, v in result["values"]
                )
    out = [line for name, found in lines.items() for line in (f"# TYPE {name} gauge", *found)]
    return "\n".join([*out, "# EOF"]) + "\n"


@contextmanager
def backfilled_prometheus(
    openmetrics: str,
    rule_files: Sequence[Path],
    start: float,
    end: float,
    workdir: Path,
    reads: Iterable[str] = (),
) -> Iterator[str]:
    """A real Prometheus holding ``openmetrics`` plus the recording rules' results; yields its URL.

    Two starts: the rules are evaluated through the first, their blocks loaded by the second.
    """
    data, config = workdir / "data", workdir / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    backfill_openmetrics(openmetrics, data)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = prometheus(config, data, port, workdir).start()
    try:
        if rule_files:
            recorded = recorded_openmetrics(url, rule_files, start, end, reads=reads)
            proc.stop()
            backfill_openmetrics(recorded, data)
            proc = prometheus(config, data, port, workdir).start()
        yield url
    finally:
        proc.stop()
