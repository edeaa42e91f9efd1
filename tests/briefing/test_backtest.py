"""The proactive claim on a realistic week in a real Prometheus: the leak, the creeping error-budget
burn and the falling cache hit rate are flagged before their shipped alerts fire, with ETAs within
30% of when the limit was really reached, and at most one false warning per simulated day."""

from __future__ import annotations

import asyncio
import json

from briefing.backtest import Report, backtest
from briefing.prometheus import Prometheus
from llm_sre.cli import main
from llm_sre.rules_cli import rule_files
from tests.briefing.conftest import Week

DAY = 86400.0
# The injected problems, by the alert that fires for each and the subject labels it carries.
PROBLEMS = {
    "leak": ("ContainerMemoryNearLimit", {"name": "chroma"}),
    "burn": ("LLMAvailabilityBudgetBurn", {"sloth_slo": "llm-availability"}),
    "cache": ("EmbeddingCacheBudgetBurn", {"sloth_slo": "embedding-cache-hit-rate"}),
}


def _first_firing(report: Report, alertname: str, labels: dict[str, str]):
    found = [o for o in report.outcomes if o.alert.alertname == alertname
             and all(o.alert.labels.get(k) == v for k, v in labels.items())]  # fmt: skip
    assert found, f"{alertname} {labels} never fired in the replay: the scenario lost its problem"
    return min(found, key=lambda o: o.alert.at)


def test_backtest_flags_the_three_slow_problems_before_their_alerts(week: Week) -> None:
    sc = week.scenario
    start = sc.start + DAY  # a day of history before the first hourly briefing
    report = asyncio.run(backtest(Prometheus(week.url, timeout=60), start, sc.end, rule_files=rule_files()))
    print(report.text())  # the figures, in the test log

    for problem, (alertname, labels) in PROBLEMS.items():
        outcome = _first_firing(report, alertname, labels)
        assert outcome.first is not None, f"{problem}: {alertname} fired without an earlier warning or trend"
        assert outcome.lead is not None and outcome.lead >= 6 * 3600, f"{problem}: flagged too late"
        # The early warning about the same subject that gave the lead, judged by the real crossing.
        warnings = [e for e in report.episodes if e.first.kind == "early_warning" and e.confirmed_by
                    and e.confirmed_by.alertname == alertname and e.first.at < outcome.alert.at
                    and e.eta_error is not None]  # fmt: skip
        assert warnings, f"{problem}: no early warning with an ETA before {alertname}"
        first = min(warnings, key=lambda e: e.first.at)
        assert first.eta_error <= 0.30, f"{problem}: ETA off by {first.eta_error:.0%}"

    assert len(report.false_warnings) / report.days <= 1.0, [e.first for e in report.false_warnings]
    summary = report.to_json()
    assert summary["false_warnings"] == len(report.false_warnings)
    assert {a["alertname"] for a in summary["alerts"] if a["flagged"]} >= {a for a, _ in PROBLEMS.values()}


def test_brief_cli_as_of_a_past_moment_reports_the_leak_with_evidence(
    week: Week, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("LLM_SRE_DATA_DIR", "/nonexistent-llm-sre-data")
    at = week.scenario.leak_crosses - 1.5 * DAY  # the leak is well under way, the alert still far off
    code = main(["brief", "--prometheus", week.url, "--at", str(at), "--no-llm", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # no incident store here: a partial briefing says so in its exit status
    assert {m["section"] for m in doc["missing"]} == {"top_issues"}
    assert set(doc) >= {"period", "top_issues", "trends", "early_warnings", "efficiency", "text", "llm"}
    assert doc["llm"]["accepted"] is False and doc["llm"]["reason"] == "no LLM configured"
    leak = [w for w in doc["early_warnings"] if w["subject"] == "chroma" and w["metric"] == "memory"]
    assert leak, doc["early_warnings"]
    w = leak[0]
    assert w["limit"] == 0.9 and w["eta"].endswith("Z") and 0 < w["seconds_to_limit"] <= 3 * DAY
    assert "llm_sre_container_memory_working_set_bytes" in w["evidence"]["query"]
    # Every item line of the text shows the value its evidence holds.
    for item in (*doc["early_warnings"], *doc["trends"], *doc["efficiency"]):
        assert item["evidence"]["value"] in doc["text"]
    assert "Deterministic summary (LLM not used: no LLM configured)" in doc["text"]
