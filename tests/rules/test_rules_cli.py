"""``llm-sre rules generate`` and ``llm-sre rules test`` as a user runs them."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import yaml

from llm_sre import rules_cli


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="llm-sre")
    rules_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_generate_then_check_detects_a_hand_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = str(rules_cli.RULES / "slos.yaml"), tmp_path / "generated"
    assert run("rules", "generate", "--spec", spec, "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["llm-app.yml", "llm-sre-webhook.yml"]
    assert run("rules", "generate", "--spec", spec, "--out", str(out), "--check") == 0

    edited = out / "llm-app.yml"
    edited.write_text(edited.read_text().replace("severity: critical", "severity: warning"))
    capsys.readouterr()
    assert run("rules", "generate", "--spec", spec, "--out", str(out), "--check") == 1
    assert f"out of date: {edited}" in capsys.readouterr().err
    assert "severity: warning" in edited.read_text()  # --check writes nothing


def test_rules_test_fails_on_a_failing_unit_test_and_an_unknown_metric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    (rules / "alerts").mkdir(parents=True)
    (rules / "tests").mkdir()
    (rules / "alerts/a.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "Typo", "expr": "llm_sre_llm_callz_total > 0", "labels": {"severity": "warning"}},
    ]}]}))
    (rules / "tests/a.yml").write_text(yaml.safe_dump({
        "rule_files": ["../alerts/a.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [{"series": "llm_sre_llm_callz_total", "values": "1x5"}],
                   "alert_rule_test": [{"eval_time": "2m", "alertname": "Typo", "exp_alerts": []}]}],
    }))
    am = tmp_path / "am.yml"
    shutil.copy(rules_cli.ALERTMANAGER, am)

    assert run("rules", "test", "--rules", str(rules), "--alertmanager", str(am)) == 1
    out = capsys.readouterr()
    assert "ok   promtool check rules alerts/a.yml" in out.out
    assert "FAIL promtool test rules tests/a.yml" in out.out
    assert "ok   amtool routes Typo severity=warning" in out.out
    assert "FAIL metric names" in out.out and "unknown metric llm_sre_llm_callz_total" in out.err
    assert "2 of the checks failed" in out.out
