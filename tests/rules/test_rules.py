"""Every shipped rule passes promtool, is unit-tested firing and silent, and reads only known metrics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_sre import rule_lint, rules_cli, slo

RULE_FILES = rules_cli.rule_files()
ALERTS = list(rules_cli.alert_rules(RULE_FILES))
DOCS = rules_cli.REPO / "docs/rules.md"
SEVERITIES = {"critical", "warning", "info"}
# Always firing by design (a dead man's switch): its "silent case" is a broken pipeline, which
# promtool cannot simulate. Exempt by name only while its expression really is a constant.
HEARTBEATS = {"Watchdog"}


def _unit_test_alerts() -> list[dict[str, Any]]:
    """Every alert_rule_test of every promtool test file."""
    return [
        case
        for path in rules_cli.unit_test_files()
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("alert_rule_test", [])
    ]


@pytest.mark.parametrize("check", rules_cli.checks(), ids=lambda c: c.name)
def test_promtool_and_amtool_accept_the_shipped_files(check: rules_cli.Check) -> None:
    result = check.run()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_set_is_not_empty() -> None:
    names = {rule["alert"] for rule in ALERTS}
    assert {"LLMErrorBurst", "TargetDown", "ContainerOOMKilled", "LLMAvailabilityBudgetBurn"} <= names
    assert len(rules_cli.unit_test_files()) >= 5


def test_every_alert_and_severity_has_a_firing_case_with_labels_and_annotations() -> None:
    fired = {
        (case["alertname"], alert["exp_labels"].get("severity"))
        for case in _unit_test_alerts()
        for alert in case["exp_alerts"]
        if alert.get("exp_annotations")
    }
    shipped = {(rule["alert"], rule["labels"]["severity"]) for rule in ALERTS}
    assert shipped - fired == set(), "alerts without a firing unit test (with annotations)"


def test_every_alert_has_a_silent_case() -> None:
    silent = {case["alertname"] for case in _unit_test_alerts() if case["exp_alerts"] == []}
    missing = {rule["alert"] for rule in ALERTS} - silent - HEARTBEATS
    assert missing == set(), "alerts without a silent unit test"


def test_the_heartbeat_always_fires_and_pages_nobody() -> None:
    (watchdog,) = [rule for rule in ALERTS if rule["alert"] in HEARTBEATS]
    assert watchdog["expr"] == "vector(1)" and "for" not in watchdog
    # severity none: no inhibition rule (they target warning/info) can mute the heartbeat.
    assert watchdog["labels"]["severity"] == "none"


def test_every_firing_case_carries_service_for_grouping_and_inhibition() -> None:
    missing = [case["alertname"] for case in _unit_test_alerts() for alert in case["exp_alerts"]
               if "service" not in alert["exp_labels"]]
    assert missing == []


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r['alert']}-{r['labels'].get('severity')}")
def test_alert_has_severity_summary_description_and_a_documented_runbook(rule: dict[str, Any]) -> None:
    allowed = SEVERITIES | {"none"} if rule["alert"] in HEARTBEATS else SEVERITIES
    assert rule["labels"].get("severity") in allowed
    annotations = rule["annotations"]
    assert {"summary", "description", "runbook_url"} <= set(annotations)
    # One base everywhere, so publishing the docs elsewhere is one search-and-replace of slo.RUNBOOKS.
    base, _, anchor = annotations["runbook_url"].partition("#")
    assert base == slo.RUNBOOKS
    headings = {_anchor(line) for line in DOCS.read_text().splitlines() if line.startswith("#")}
    assert anchor in headings, f"docs/rules.md has no heading for #{anchor}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_every_metric_label_and_value_a_rule_reads_is_defined() -> None:
    assert [str(p) for p in rule_lint.lint(RULE_FILES)] == []


def test_lint_reports_unknown_metrics_labels_and_values() -> None:
    expr = ('sum(rate(llm_sre_rag_retrievals_total{outcome=~"empty|gone",bogus="1"}[5m]))'
            " / llm_sre_llm_callz_total + on() group_left slo:known:ratio + up")
    problems = rule_lint.expression_problems(expr, frozenset({"slo:known:ratio"}))
    assert len(problems) == 3
    assert "'gone'" in problems[0] and "'bogus'" in problems[1] and "llm_sre_llm_callz_total" in problems[2]


def test_lint_reads_a_whole_rule_set(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "g", "rules": [
        {"record": "job:x:rate5m", "expr": "sum(rate(llm_sre_llm_calls_total[5m]))"},
        {"alert": "A", "expr": "job:x:rate5m > 1 and vllm:num_requests_waiting > 0"},
        {"alert": "B", "expr": "job:y:rate5m > 1"},
    ]}]}
    path = tmp_path / "r.yml"
    path.write_text(yaml.safe_dump(rules))
    assert [str(p) for p in rule_lint.lint([path])] == [
        "r.yml: B: unknown metric job:y:rate5m (not in exporters.catalogue, a recording rule or a documented "
        "external source)"
    ]
