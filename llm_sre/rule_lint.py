"""Checks on rule expressions that promtool cannot make: every series a rule reads exists.

promtool accepts any metric name, so a typo, or a metric renamed in the catalogue, gives a rule
that loads, evaluates to nothing and never fires. We parse each expression with promql-parser
(Prometheus' grammar, in Rust) rather than with regexes, which cannot tell a metric from a label
or a function, and check every selector against :mod:`exporters.catalogue` and the recording rules:

    >>> problems = lint(rules_cli.rule_files())
    >>> [str(p) for p in problems]   # [] when every name, label and enumerated value is known
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import promql_parser
import yaml

from exporters.catalogue import SPECS, MetricSpec, exposed_names, is_known

# Labels Prometheus adds to every scraped series: `service` is a target label on every job
# (provisioning/prometheus/prometheus.yml), job and instance are Prometheus' own.
TARGET_LABELS = frozenset({"job", "instance", "service"})
_LITERAL_ALTERNATIVES = re.compile(r"[\w.:-]+(\|[\w.:-]+)*")
_SPEC_BY_SERIES: dict[str, MetricSpec] = {
    series: spec for spec in SPECS.values() for series in exposed_names(spec)
}


@dataclass(frozen=True)
class Problem:
    file: Path
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file.name}: {self.rule}: {self.message}"


def selectors(node: object) -> Iterator[promql_parser.VectorSelector]:
    """Every vector selector in a parsed expression, however deeply nested."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
        return
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None:
            yield from selectors(child)
    for arg in getattr(node, "args", None) or ():
        yield from selectors(arg)


def _name(selector: promql_parser.VectorSelector) -> str | None:
    if selector.name:
        return str(selector.name)
    for m in selector.matchers.matchers:
        if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal:
            return str(m.value)
    return None


def _matcher_problems(series: str, spec: MetricSpec, selector: promql_parser.VectorSelector) -> Iterator[str]:
    labels = {*spec.labels, *TARGET_LABELS, "__name__", *(("le",) if series.endswith("_bucket") else ())}
    for m in selector.matchers.matchers:
        if m.name not in labels:
            yield f"{series} has no label {m.name!r}"
            continue
        allowed = spec.values.get(m.name)
        if allowed is None or m.op not in (promql_parser.MatchOp.Equal, promql_parser.MatchOp.Re):
            continue
        # Only plain alternations (a|b) are checkable; other regexes are left to the author.
        if m.op == promql_parser.MatchOp.Re and not _LITERAL_ALTERNATIVES.fullmatch(m.value):
            continue
        for value in m.value.split("|") if m.op == promql_parser.MatchOp.Re else [m.value]:
            if value not in allowed:
                yield f"{series}{{{m.name}}} never takes the value {value!r} (allowed: {list(allowed)})"


def expression_problems(expr: str, recorded: frozenset[str]) -> list[str]:
    """What is wrong with the series ``expr`` reads; ``recorded`` are names recording rules define."""
    found: list[str] = []
    for selector in selectors(promql_parser.parse(expr)):
        series = _name(selector)
        if series is None:
            found.append("selector without a metric name")
        elif series in recorded:
            continue
        elif not is_known(series):
            found.append(f"unknown metric {series} (not in exporters.catalogue, a recording rule or a "
                         "documented external source)")
        elif series in _SPEC_BY_SERIES:
            found.extend(_matcher_problems(series, _SPEC_BY_SERIES[series], selector))
    return found


def _rules(files: Iterable[Path]) -> Iterator[tuple[Path, dict[str, str]]]:
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def lint(files: Iterable[Path]) -> list[Problem]:
    """Problems in all rules of ``files``, which together are one Prometheus rule set."""
    rules = list(_rules(files))
    recorded = frozenset(rule["record"] for _, rule in rules if "record" in rule)
    return [
        Problem(path, rule.get("alert") or rule["record"], message)
        for path, rule in rules
        for message in expression_problems(rule["expr"], recorded)
    ]
