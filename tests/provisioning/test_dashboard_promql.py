"""Every PromQL expression in the dashboards parses and reads only metrics and labels that exist.

"Exist" means: in the metric catalogue (exporters/catalogue.py), produced by a recording rule in
rules/, or documented by the external source the stack scrapes (cAdvisor, vLLM, Prometheus).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from exporters import catalogue
from llm_sre.dashboards import BOARDS
from llm_sre.stack import REPO
from tests.provisioning.promql import Expression, expressions, output_labels, references, rules

# vLLM's production metrics the Model server board uses (docs.vllm.ai "Production Metrics";
# gpu_cache_usage_perc is the pre-V1 name of kv_cache_usage_perc).
VLLM_DOCUMENTED = {
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:kv_cache_usage_perc",
    "vllm:gpu_cache_usage_perc",
    "vllm:time_to_first_token_seconds_bucket",
    "vllm:e2e_request_latency_seconds_bucket",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:num_preemptions_total",
    "vllm:request_success_total",
}
VLLM_LABELS = {"model_name", "finished_reason", "le"}
# Series Prometheus itself produces.
PROMETHEUS_BUILTIN = {"up": {"job", "instance"}, "ALERTS": {"alertname", "alertstate"}}


@cache
def target_labels() -> frozenset[str]:
    """Labels Prometheus attaches to every scraped series (job, instance, static and relabelled ones)."""
    config = yaml.safe_load((REPO / "provisioning/prometheus/prometheus.yml").read_text())
    labels = {"job", "instance"}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            labels |= set(static.get("labels", {}))
        labels |= {rule["target_label"] for rule in job.get("relabel_configs", []) if "target_label" in rule}
    return frozenset(labels)


def catalogued_labels(metric: str) -> frozenset[str] | None:
    for spec in catalogue.SPECS.values():
        if metric in catalogue.exposed_names(spec):
            extra = {"le"} if metric.endswith("_bucket") else set()
            # honor_labels: false keeps a colliding target label and renames the metric's own.
            extra |= {f"exported_{label}" for label in spec.labels if label in target_labels()}
            return frozenset(spec.labels) | extra | target_labels()
    return None


@cache
def recorded() -> dict[str, frozenset[str]]:
    """Recording rule name -> labels of its series (over every rule that records that name)."""
    found: dict[str, frozenset[str]] = {}
    for rule in rules():
        if "record" in rule:
            labels = output_labels(rule, lambda m: catalogued_labels(m) or frozenset())
            found[rule["record"]] = found.get(rule["record"], frozenset()) | labels
    return found


@cache
def alert_labels() -> frozenset[str]:
    """Labels an ALERTS series can carry, over every alerting rule in rules/."""
    labels = frozenset(PROMETHEUS_BUILTIN["ALERTS"]) | target_labels()
    for rule in rules():
        if "alert" in rule:
            labels |= output_labels(rule, lambda m: labels_of(m) or frozenset())
    return labels


def labels_of(metric: str) -> frozenset[str] | None:
    """The labels ``metric`` can carry, or None when it is not known at all."""
    if (labels := catalogued_labels(metric)) is not None:
        return labels
    if metric in recorded():
        return recorded()[metric] | target_labels()
    if metric in VLLM_DOCUMENTED:
        return frozenset(VLLM_LABELS) | target_labels()
    if metric == "ALERTS":
        return alert_labels()
    if metric in PROMETHEUS_BUILTIN:
        return frozenset(PROMETHEUS_BUILTIN[metric]) | target_labels()
    return None


def problems(promql: str) -> list[str]:
    """Unknown metrics, filters on labels a metric lacks, and groupings by labels nothing below has."""
    found = []
    ref = references(promql)
    for metric, matched in ref.selectors:
        known = labels_of(metric)
        if known is None:
            found.append(f"unknown metric {metric}")
        elif matched - known:
            found.append(f"{metric} has no label {sorted(matched - known)}")
    for grouping in ref.groupings:
        available: set[str] = set()
        for metric in grouping.metrics:
            available |= labels_of(metric) or set()
        if grouping.labels - available:
            missing = sorted(grouping.labels - available)
            found.append(f"grouping by {missing}, which {sorted(grouping.metrics)} lack")
    return found


@cache
def all_expressions() -> tuple[Expression, ...]:
    return tuple(expressions())


def test_every_board_contributes_expressions() -> None:
    boards = {expression.dashboard for expression in all_expressions()}
    assert boards == {factory().uid for factory in BOARDS}
    assert len(all_expressions()) >= 100


def test_every_expression_passes_promtool(tmp_path: Path) -> None:
    rules = [
        {"record": f"dashboard:expression_{i}", "expr": e.promql()} for i, e in enumerate(all_expressions())
    ]
    rule_file = tmp_path / "dashboards.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rules)} rules found" in result.stdout


@pytest.mark.parametrize("expression", all_expressions(), ids=lambda e: f"{e.dashboard}:{e.where}")
def test_expression_reads_only_existing_metrics_and_labels(expression: Expression) -> None:
    assert problems(expression.promql()) == []


def test_dashboards_use_the_recording_rules_that_exist() -> None:
    used = {metric for e in all_expressions() for metric, _ in references(e.promql()).selectors}
    assert {"slo:sli_error:ratio_rate5m", "slo:error_budget:ratio"} <= set(recorded())
    assert used & set(recorded()), "the SLO board should read the Sloth-style recording rules"


@pytest.mark.parametrize(
    ("promql", "expected"),
    [
        ("rate(llm_sre_llm_call_total[5m])", "unknown metric llm_sre_llm_call_total"),
        ('llm_sre_cache_entries{model="x"}', "llm_sre_cache_entries has no label ['model']"),
        ("sum by (model) (rate(llm_sre_cache_requests_total[5m]))", "grouping by ['model']"),
        ('llm_sre_cache_entries{exported_cache="x"}', "has no label ['exported_cache']"),
        ("vllm:num_requests_runing", "unknown metric vllm:num_requests_runing"),
    ],
)
def test_checker_catches_typos(promql: str, expected: str) -> None:
    assert any(expected in problem for problem in problems(promql)), problems(promql)
