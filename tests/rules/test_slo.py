"""The SLO generator: each step on its own, then the committed output against a fresh generation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from llm_sre import rules_cli, slo
from llm_sre.slo_yaml import go_g, sloth_header

AVAILABILITY = """
version: llm-sre/v1
slos:
  - service: shop
    name: availability
    objective: 99.9
    description: Calls that succeed.
    labels: {team: ml}
    sli:
      events:
        error_query: sum(rate(calls_total{error!=""}[{{.window}}]))
        total_query: sum(rate(calls_total[{{.window}}]))
    alerting:
      name: ShopAvailability
      labels: {category: availability}
      annotations: {runbook_url: "https://runbooks/shop"}
      page_alert: {labels: {severity: critical}}
      ticket_alert: {labels: {severity: warning}}
"""


def spec_with(**changes: object) -> slo.Spec:
    doc = yaml.safe_load(AVAILABILITY)
    doc["slos"][0].update(changes)
    return slo.Spec.model_validate(doc)


def test_sli_recordings_cover_every_alert_window_and_the_period() -> None:
    rules = slo.sli_recordings(slo.load_spec(AVAILABILITY).slos[0])
    assert [r["record"] for r in rules] == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    ]
    five = rules[0]
    assert five["expr"] == '(sum(rate(calls_total{error!=""}[5m])))\n/\n(sum(rate(calls_total[5m])))\n'
    assert five["labels"] == {"team": "ml", "sloth_id": "shop-availability", "sloth_service": "shop",
                              "sloth_slo": "availability", "sloth_window": "5m"}
    assert "sum_over_time(slo:sli_error:ratio_rate5m{" in rules[-1]["expr"]


def test_latency_sli_counts_calls_above_the_bucket_as_errors() -> None:
    spec = spec_with(sli={"latency": {"histogram": "gen_ai_client_operation_duration_seconds",
                                      "selector": 'service="shop"', "threshold_seconds": 2.56}})
    expr = slo.sli_recordings(spec.slos[0])[1]["expr"]
    assert 'gen_ai_client_operation_duration_seconds_bucket{service="shop",le="2.56"}[30m]' in expr
    total = 'sum(rate(gen_ai_client_operation_duration_seconds_count{service="shop"}[30m]))'
    assert expr.startswith(f"({total} - ")


def test_latency_threshold_must_be_a_bucket_bound_of_a_catalogued_histogram() -> None:
    with pytest.raises(ValidationError, match="not a bucket bound"):
        spec_with(sli={"latency": {"histogram": "gen_ai_client_operation_duration_seconds",
                                   "threshold_seconds": 3.0}})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sli": {"events": {"error_query": "sum(rate(x[5m]))", "total_query": "sum(rate(x[{{.window}}]))"}}},
         r"\{\{\.window\}\}"),
        ({"sli": {}}, "exactly one"),
        ({"objective": 100}, "less than 100"),
        ({"name": "Bad Name"}, "string_pattern_mismatch|should match pattern"),
        ({"alerting": {"name": "X", "page_alert": {"labels": {}}, "ticket_alert": {"disable": True}}},
         "needs a `severity` label"),
    ],
)
def test_invalid_specs_are_rejected_with_the_reason(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec_with(**changes)


def test_duplicate_slo_ids_are_rejected() -> None:
    doc = yaml.safe_load(AVAILABILITY)
    doc["slos"].append(doc["slos"][0])
    with pytest.raises(ValidationError, match="duplicate SLO ids"):
        slo.Spec.model_validate(doc)


def test_meta_recordings_carry_objective_budget_and_remaining_budget() -> None:
    rules = {r["record"]: r for r in slo.meta_recordings(slo.load_spec(AVAILABILITY).slos[0])}
    # Sloth's arithmetic and formatting (float64, %g), so the rules compare equal to its output.
    assert rules["slo:objective:ratio"]["expr"] == "vector(0.9990000000000001)"
    assert rules["slo:error_budget:ratio"]["expr"] == "vector(1-0.9990000000000001)"
    assert rules["sloth_slo_info"]["labels"]["sloth_version"] == slo.SLOTH_VERSION
    remaining = rules["slo:period_error_budget_remaining:ratio"]["expr"]
    assert remaining.startswith("1 - slo:period_burn_rate:ratio{")
    assert "slo:sli_error:ratio_rate30d{" in rules["slo:period_burn_rate:ratio"]["expr"]


def test_page_and_ticket_alerts_use_the_workbook_burn_rates() -> None:
    page, ticket = slo.alerts(slo.load_spec(AVAILABILITY).slos[0])
    assert page["alert"] == ticket["alert"] == "ShopAvailability"
    for window, factor in (("5m", "14.4"), ("1h", "14.4"), ("30m", "6"), ("6h", "6")):
        assert f"slo:sli_error:ratio_rate{window}{{" in page["expr"]
        assert f"> ({factor} * 0.0009999999999999432)) without (sloth_window)" in page["expr"]
    for window in ("2h", "1d", "6h", "3d"):
        assert f"slo:sli_error:ratio_rate{window}{{" in ticket["expr"]
    for factor in ("3", "1"):
        assert f"> ({factor} * 0.0009999999999999432)" in ticket["expr"]
    assert page["labels"] == {"service": "shop", "category": "availability", "severity": "critical",
                              "sloth_severity": "page"}
    assert ticket["labels"]["severity"] == "warning"
    assert page["annotations"]["runbook_url"] == "https://runbooks/shop"  # spec overrides the default
    assert set(page["annotations"]) == {"summary", "description", "runbook_url"}


def test_a_disabled_page_alert_leaves_only_the_ticket() -> None:
    spec = spec_with(alerting={"name": "Cache", "page_alert": {"disable": True},
                               "ticket_alert": {"labels": {"severity": "warning"}}})
    assert [a["labels"]["sloth_severity"] for a in slo.alerts(spec.slos[0])] == ["ticket"]


def test_generate_writes_one_file_per_service_with_sloth_group_names() -> None:
    files = slo.generate(slo.load_spec(AVAILABILITY))
    assert list(files) == ["shop.yml"]
    assert files["shop.yml"].startswith(slo.HEADER)
    groups = yaml.safe_load(files["shop.yml"])["groups"]
    assert [g["name"] for g in groups] == [
        "sloth-slo-sli-recordings-shop-availability",
        "sloth-slo-meta-recordings-shop-availability",
        "sloth-slo-alerts-shop-availability",
    ]


def test_committed_generated_rules_match_a_fresh_generation() -> None:
    fresh = rules_cli.generate(rules_cli.RULES / "slos.yaml")
    assert rules_cli.generation_diff(fresh, rules_cli.RULES / "generated") == [], (
        "rules/generated/ is out of date: run `llm-sre rules generate` and commit the result"
    )


def test_write_generated_updates_stale_files_and_removes_orphans(tmp_path) -> None:
    fresh = slo.generate(slo.load_spec(AVAILABILITY))
    (tmp_path / "shop.yml").write_text("stale")
    (tmp_path / "gone.yml").write_text("groups: []")
    assert rules_cli.write_generated(fresh, tmp_path) == ["gone.yml", "shop.yml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yml"]
    assert rules_cli.generation_diff(fresh, tmp_path) == []


# --- byte-identical to Sloth ------------------------------------------------------------------
# Sloth's examples and their generated output, committed unchanged (Apache-2.0, see NOTICE there).
SLOTH_EXAMPLES_DIR = Path(__file__).parent / "sloth_examples"
SLOTH_EXAMPLES = ("getting-started", "home-wifi", "no-alerts")


@pytest.mark.parametrize("example", SLOTH_EXAMPLES)
def test_a_sloth_spec_generates_exactly_what_sloth_generates(example: str) -> None:
    spec = (SLOTH_EXAMPLES_DIR / f"{example}.yml").read_text()
    expected = (SLOTH_EXAMPLES_DIR / "_gen" / f"{example}.yml").read_text()
    # Sloth's examples are generated by a development build with one extra label (examplesgen.sh).
    info = slo.Info(version="dev", extra_labels={"cmd": "examplesgen.sh"})
    (generated,) = slo.generate(slo.load_spec(spec), info, header=sloth_header("dev")).values()
    assert generated == expected


def test_sloth_spec_alerts_get_sloths_default_annotations_and_no_service_label() -> None:
    spec = slo.load_spec(AVAILABILITY.replace("version: llm-sre/v1", "version: prometheus/v1\nservice: shop")
                         .replace("  - service: shop\n    name:", "  - name:"))
    (text,) = slo.generate(spec).values()
    page = yaml.safe_load(text)["groups"][2]["rules"][0]
    assert "service" not in page["labels"]
    assert page["annotations"]["title"].startswith("(page) {{$labels.sloth_service}}")


@pytest.mark.parametrize(("value", "go"), [
    (30.0, "30"), (14.4, "14.4"), (0.0001, "0.0001"), (1e-05, "1e-05"), (123456.0, "123456"),
    (1e6, "1e+06"), (1234567.0, "1.234567e+06"), (99.9 / 100, "0.9990000000000001"),
    ((100 - 99.99) / 100, "0.00010000000000005117"),
])
def test_numbers_are_formatted_as_gos_percent_g(value: float, go: str) -> None:
    assert go_g(value) == go
