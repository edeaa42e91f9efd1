"""The compose stack pins Prometheus 3 and Alertmanager 0.31; this machine tests with 2.42 and 0.25.

promtool and amtool here check syntax and routing, so what remains are the differences between
the tested and the shipped versions that those tools cannot see (Prometheus' 3.0 migration guide;
Alertmanager 0.27's new matcher parser). Each test below pins one of them to the files, so a rule
or board written against 2.42 that would misbehave on the shipped version fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import promql_parser
import pytest

from llm_sre import rule_lint
from llm_sre.stack import REPO
from tests.provisioning.promql import expressions, nodes, rules
from tests.provisioning.stackfiles import compose, load_yaml

# Prometheus 3 stores classic-histogram `le` and summary `quantile` values in one canonical float
# form ("1" is ingested as "1.0"), so an equality matcher on the 2.x spelling matches nothing.
# prometheus-client already exposes that form: a decimal point, or +Inf.
_CANONICAL_FLOAT = re.compile(r"-?\d+\.\d+(e[+-]\d+)?|\+Inf")
# Range selectors are left-open in 3.x: a window holds one sample fewer than in 2.x when a scrape
# lands on its start. Four scrape intervals keep rate() at three samples or more.
_MIN_SCRAPES_PER_WINDOW = 4
# Flags or feature flags removed in 3.0 (their behaviour became the default or a dedicated flag).
_REMOVED_FLAGS = ("--storage.tsdb.retention=", "--alertmanager.timeout", "--enable-feature=")
# Alertmanager >= 0.27 parses matchers with a UTF-8 parser that is stricter about unquoted values;
# the quoted form below means the same to 0.25 and 0.31.
_QUOTED_MATCHER = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"')


def _all_promql() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every rule in rules/ and every dashboard expression."""
    for rule in rules():
        yield f"rule {rule.get('record') or rule.get('alert')}", str(rule["expr"])
    for expression in expressions():
        yield f"{expression.dashboard}: {expression.where}", expression.promql()


def _scrape_intervals() -> tuple[timedelta, timedelta]:
    """(global scrape interval, cAdvisor's): cAdvisor's `container_*` series are scraped less often."""
    config = load_yaml("provisioning/prometheus/prometheus.yml")
    default = config["global"]["scrape_interval"]
    cadvisor = next(job for job in config["scrape_configs"] if job["job_name"] == "cadvisor")
    seconds = [
        re.fullmatch(r"(\d+)s", value) for value in (default, cadvisor.get("scrape_interval", default))
    ]
    assert all(seconds), f"scrape intervals are expected in seconds: {default}, {cadvisor}"
    return timedelta(seconds=int(seconds[0][1])), timedelta(seconds=int(seconds[1][1]))


def _minimum_window(node: Any) -> timedelta:
    default, cadvisor = _scrape_intervals()
    from_cadvisor = any(s.name.startswith("container_") for s in rule_lint.selectors(node))
    return _MIN_SCRAPES_PER_WINDOW * (cadvisor if from_cadvisor else default)


def test_images_are_the_documented_prometheus_3_and_alertmanager_0_31() -> None:
    services = compose()["services"]
    assert services["prometheus"]["image"].startswith("prom/prometheus:v3.")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:v0.31.")
    docs = (REPO / "docs/stack.md").read_text()
    for name, service in services.items():
        if "build" not in service:
            assert f"`{service['image']}`" in docs, f"docs/stack.md does not name {name}'s image"


@pytest.mark.parametrize(("where", "promql"), list(_all_promql()), ids=lambda value: value[:60])
def test_promql_means_the_same_on_prometheus_3(where: str, promql: str) -> None:
    tree = promql_parser.parse(promql)
    for selector in rule_lint.selectors(tree):
        for matcher in selector.matchers.matchers:
            if matcher.name in ("le", "quantile") and matcher.op == promql_parser.MatchOp.Equal:
                assert _CANONICAL_FLOAT.fullmatch(matcher.value), f"{where}: {matcher.name}={matcher.value!r}"
    for node in nodes(tree):
        if isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
            minimum = _minimum_window(node)
            assert node.range >= minimum, f"{where}: a {node.range} window is under {minimum}"


def test_checks_catch_the_2x_spellings() -> None:
    assert not _CANONICAL_FLOAT.fullmatch("1") and _CANONICAL_FLOAT.fullmatch("1.0")
    assert _CANONICAL_FLOAT.fullmatch("10.24") and _CANONICAL_FLOAT.fullmatch("+Inf")
    # 3.x renamed holt_winters and put it behind a feature flag; promql-parser, which every
    # expression here goes through, follows the 3.x grammar and refuses it, as 3.x would.
    with pytest.raises(ValueError, match="holt_winters"):
        promql_parser.parse("holt_winters(x[10m], 0.5, 0.5)")
    ranges = [n.range for n in nodes(promql_parser.parse("sum(rate(x[30s]))")) if hasattr(n, "range")]
    assert ranges == [timedelta(seconds=30)]


def test_prometheus_command_and_config_avoid_what_3_0_removed() -> None:
    command = compose()["services"]["prometheus"]["command"]
    assert not [flag for flag in command if flag.startswith(_REMOVED_FLAGS)]
    config = load_yaml("provisioning/prometheus/prometheus.yml")
    # 3.x expands $VAR in external labels (2.x only behind a flag).
    assert not any("$" in str(value) for value in config["global"]["external_labels"].values())
    # 3.x speaks only the v2 API to Alertmanager.
    assert all(am.get("api_version", "v2") == "v2" for am in config["alerting"]["alertmanagers"])


def _matchers(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("matchers", "source_matchers", "target_matchers"):
                yield from value
            else:
                yield from _matchers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _matchers(item)


def test_alertmanager_matchers_parse_the_same_on_0_25_and_0_31() -> None:
    config = load_yaml("provisioning/alertmanager/alertmanager.yml")
    matchers = list(_matchers(config))
    assert len(matchers) >= 5
    for matcher in matchers:
        assert _QUOTED_MATCHER.fullmatch(matcher), f"unquoted or ambiguous matcher: {matcher}"
    # match/match_re are deprecated since 0.22 in favour of matchers.
    text = (REPO / "provisioning/alertmanager/alertmanager.yml").read_text()
    assert not re.search(r"^\s*-?\s*(source_|target_)?match(_re)?:", text, re.MULTILINE)
