"""Compress raw log lines into patterns with a count, a level and one example line each.

Hundreds of lines around an alert are mostly the same few messages with different ids; drain3
groups them into templates so the evidence budget holds every distinct message once.

    for p in compress(lines):
        print(p.count, p.level, p.template, p.example)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

# Variable tokens masked before mining; drain's grouping accuracy depends on this (REFERENCE §7).
_MASKS = (
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "IP"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "UUID"),
    (r"\b(?:0x)?[0-9a-fA-F]{12,}\b", "HEX"),
    (r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?(?:ms|s|m|h|b|kb|mb|gb|%)?(?![A-Za-z])", "NUM"),
)

# Ordered: the first match wins. Redis logs mark levels with a symbol after the role
# ("1:M 26 Nov 2026 10:00:00.000 # ..."): '#' is warning.
_LEVELS = (
    ("critical", re.compile(r"\b(?:FATAL|CRITICAL|PANIC|EMERG)\b|\bOOM\b|Killed process|Traceback", re.I)),
    (
        "error",
        re.compile(
            r"\bERR(?:OR)?\b|exception|\bfail(?:ed|ure|ing|s)?\b|refused|denied|cannot|can't|unable|\b5\d\d\b",
            re.I,
        ),
    ),
    (
        "warning",
        re.compile(r"\bWARN(?:ING)?\b|timed? ?out|retry|\b4\d\d\b|^\d+:[MSCX] \d+ \w+ \d+ [\d:.]+ # ", re.I),
    ),
)

LEVEL_WEIGHT = {"critical": 3.0, "error": 2.0, "warning": 1.0, "info": 0.0}


@dataclass(frozen=True)
class LogPattern:
    template: str
    count: int
    example: str
    level: str


def level_of(line: str) -> str:
    for name, pattern in _LEVELS:
        if pattern.search(line):
            return name
    return "info"


def _miner() -> TemplateMiner:
    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in _MASKS]
    config.drain_sim_th = 0.5
    config.profiling_enabled = False
    return TemplateMiner(config=config)


def compress(lines: Iterable[str], limit: int = 12) -> list[LogPattern]:
    """Patterns ordered by level, then count; each keeps its first example line."""
    miner = _miner()
    seen: dict[int, tuple[str, str]] = {}  # cluster id -> (example, worst level)
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        cluster = miner.add_log_message(line)["cluster_id"]
        level = level_of(line)
        example, worst = seen.get(cluster, (line, level))
        seen[cluster] = (example, worst if LEVEL_WEIGHT[worst] >= LEVEL_WEIGHT[level] else level)
    patterns = [
        LogPattern(c.get_template(), c.size, *seen[c.cluster_id])
        for c in miner.drain.clusters
        if c.cluster_id in seen
    ]
    patterns.sort(key=lambda p: (-LEVEL_WEIGHT[p.level], -p.count))
    return patterns[:limit]
