"""PromQL found in the generated dashboards, and what it refers to.

Expressions are parsed with promql-parser (GreptimeTeam's Rust parser), the same tree
:mod:`llm_sre.rule_lint` walks for the rules, because regexes cannot tell a metric from a label or a
function; promtool, the version of Prometheus this stack tests with, checks the same expressions
for syntax separately.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from llm_sre import rule_lint
from llm_sre.stack import REPO

DASHBOARDS = REPO / "dashboards"

# Grafana's built-in interval variables, replaced by values of the same type so the text parses.
_BUILTINS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$__auto": "1m"}
_TEMPLATE_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>[A-Za-z_][A-Za-z0-9_]*)\)$")


@dataclass(frozen=True)
class Expression:
    dashboard: str
    where: str  # panel title or variable name
    text: str  # as written in the dashboard

    def promql(self) -> str:
        """The expression with Grafana variables replaced: intervals by durations, the rest by ``.+``."""
        text = self.text
        for name, value in _BUILTINS.items():
            text = text.replace(name, value)
        return _TEMPLATE_VARIABLE.sub(".+", text)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _is_prometheus(datasource: dict[str, Any] | None) -> bool:
    return bool(datasource) and datasource.get("type") == "prometheus"


def expressions(directory: Path = DASHBOARDS) -> list[Expression]:
    """Every PromQL expression in the dashboards: panel targets and query-variable selectors."""
    found = []
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                if _is_prometheus(target.get("datasource") or panel.get("datasource")):
                    found.append(Expression(board["uid"], panel["title"], target["expr"]))
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") == "query" and _is_prometheus(variable.get("datasource")):
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                match = _LABEL_VALUES.match(text)
                assert match, f"{board['uid']}: variable {variable['name']} is not label_values(): {text}"
                found.append(Expression(board["uid"], f"${variable['name']}", match["selector"]))
    return found


@dataclass(frozen=True)
class Grouping:
    """``by``/``on`` keep ``labels``; ``without``/``ignoring`` drop them. ``metrics`` are the names below."""

    keeps: bool
    labels: frozenset[str]
    metrics: frozenset[str]


@dataclass(frozen=True)
class Reference:
    """What one expression reads: metric names with the labels they are filtered on, and groupings."""

    selectors: tuple[tuple[str, frozenset[str]], ...]  # (metric, matcher label names)
    groupings: tuple[Grouping, ...]


def nodes(node: Any) -> Iterator[Any]:
    """``node`` and every expression below it, depth first."""
    yield node
    for attribute in ("expr", "param", "lhs", "rhs", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from nodes(child)
    for child in getattr(node, "args", None) or ():
        yield from nodes(child)


def _groupings(tree: Any) -> Iterator[Grouping]:
    """Every ``by``/``without``/``on``/``ignoring``/``group_*`` list, with the metric names below it.

    Vector selectors come from :func:`llm_sre.rule_lint.selectors` (the rule linter walks the same
    promql-parser tree); the grouping modifiers are what it skips, and a grouping label is only
    checkable against the metrics below its node.
    """
    for node in nodes(tree):
        if getattr(node, "modifier", None) is None:
            continue
        below = frozenset(selector.name for selector in rule_lint.selectors(node))
        if isinstance(node, promql_parser.AggregateExpr):
            keeps = node.modifier.type == promql_parser.AggModifierType.By
            yield Grouping(keeps, frozenset(node.modifier.labels), below)
        if isinstance(node, promql_parser.BinaryExpr):
            matching = node.modifier.matching
            if matching is not None:
                keeps = matching.type == promql_parser.LabelModifierType.Include
                yield Grouping(keeps, frozenset(matching.labels), below)
            if node.modifier.group_labels:
                yield Grouping(True, frozenset(node.modifier.group_labels), below)


def references(promql: str) -> Reference:
    """Metrics, their matcher labels and the groupings of one expression (Grafana variables replaced)."""
    tree = promql_parser.parse(promql)
    selectors = tuple(
        (selector.name, frozenset(m.name for m in selector.matchers.matchers))
        for selector in rule_lint.selectors(tree)
    )
    return Reference(selectors, tuple(_groupings(tree)))


def rules(rules_dir: Path = REPO / "rules") -> Iterator[dict[str, Any]]:
    """Every rule (recording or alerting) under ``rules/``, not its unit tests."""
    for path in sorted(rules_dir.rglob("*.yml")):
        if "tests" in path.relative_to(rules_dir).parts:
            continue
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            yield from group.get("rules", [])


def output_labels(rule: dict[str, Any], labels_below: Callable[[str], frozenset[str]]) -> frozenset[str]:
    """Labels a rule's result series may carry: its static labels, what it groups by, and what
    ``without`` leaves of the labels below (``labels_below(metric)``)."""
    labels = set(rule.get("labels", {}))
    for grouping in references(str(rule["expr"])).groupings:
        if grouping.keeps:
            labels |= grouping.labels
        else:
            for metric in grouping.metrics:
                labels |= labels_below(metric) - grouping.labels
    return frozenset(labels)
