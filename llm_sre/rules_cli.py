"""``llm-sre rules``: regenerate the SLO rules, and check every rule and route file with the real tools.

    llm-sre rules generate           # rules/slos.yaml -> rules/generated/*.yml
    llm-sre rules generate --check   # exit 1 if the committed files differ from a fresh generation
    llm-sre rules test               # promtool check/test rules, amtool check-config and routes,
                                     # and every metric a rule reads known to exporters.catalogue

The checks are listed by :func:`checks` so the test suite runs exactly what the command runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llm_sre import rule_lint, slo
from llm_sre.processes import require

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
ALERTMANAGER = REPO / "provisioning/alertmanager/alertmanager.yml"
RECEIVER = "llm-sre"
# Alerts that must not reach the webhook, and where they go instead.
RECEIVERS = {"Watchdog": "heartbeat"}


def rule_files(rules_dir: Path = RULES) -> list[Path]:
    """Every file Prometheus loads (the same globs as provisioning/prometheus/prometheus.yml)."""
    return sorted([*rules_dir.glob("alerts/*.yml"), *rules_dir.glob("generated/*.yml")])


def unit_test_files(rules_dir: Path = RULES) -> list[Path]:
    """promtool unit tests; each names its rule files relative to itself."""
    return sorted(rules_dir.glob("tests/*.yml"))


def alert_rules(files: list[Path]) -> Iterator[dict[str, Any]]:
    """Every alerting rule in ``files``, as the YAML mapping Prometheus reads."""
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            yield from (rule for rule in group["rules"] if "alert" in rule)


def generate(spec_path: Path) -> dict[str, str]:
    return slo.generate(slo.load_spec(spec_path.read_text()))


def generation_diff(fresh: dict[str, str], out_dir: Path) -> list[str]:
    """Generated files that are missing, stale or left over, compared with ``fresh``."""
    on_disk = {p.name: p.read_text() for p in out_dir.glob("*.yml")}
    return sorted(name for name in fresh.keys() | on_disk.keys() if fresh.get(name) != on_disk.get(name))


def write_generated(fresh: dict[str, str], out_dir: Path) -> list[str]:
    """Write ``fresh``, delete generated files no SLO produces any more; return the names changed."""
    changed = generation_diff(fresh, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in changed:
        path = out_dir / name
        if name in fresh:
            path.write_text(fresh[name])
        else:
            path.unlink()
    return changed


@dataclass(frozen=True)
class Check:
    """One external tool run; it passes when the tool exits 0."""

    name: str
    argv: tuple[str, ...]

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv, capture_output=True, text=True, timeout=120, check=False)


def checks(rules_dir: Path = RULES, am_config: Path = ALERTMANAGER) -> list[Check]:
    """promtool on every rule and test file; amtool on the config and on each shipped alert's route."""
    promtool, amtool = require("promtool"), require("amtool")
    out = [Check(f"promtool check rules {p.relative_to(rules_dir)}", (promtool, "check", "rules", str(p)))
           for p in rule_files(rules_dir)]
    out += [Check(f"promtool test rules {p.relative_to(rules_dir)}", (promtool, "test", "rules", str(p)))
            for p in unit_test_files(rules_dir)]
    out.append(Check("amtool check-config", (amtool, "check-config", str(am_config))))
    seen: set[tuple[str, str]] = set()
    for rule in alert_rules(rule_files(rules_dir)):
        key = (rule["alert"], rule["labels"]["severity"])
        if key in seen:
            continue
        seen.add(key)
        argv = (amtool, "config", "routes", "test", f"--config.file={am_config}",
                f"--verify.receivers={RECEIVERS.get(key[0], RECEIVER)}", f"alertname={key[0]}",
                f"severity={key[1]}")
        out.append(Check(f"amtool routes {key[0]} severity={key[1]}", argv))
    return out


def _cmd_generate(args: argparse.Namespace) -> int:
    fresh = generate(args.spec)
    if args.check:
        diff = generation_diff(fresh, args.out)
        for name in diff:
            print(f"out of date: {args.out / name}", file=sys.stderr)
        if diff:
            print("run `llm-sre rules generate` and commit the result", file=sys.stderr)
        return 1 if diff else 0
    changed = write_generated(fresh, args.out)
    print(f"{len(changed)} file(s) updated in {args.out}" + "".join(f"\n  {n}" for n in changed))
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    failed = 0
    for check in checks(args.rules, args.alertmanager):
        result = check.run()
        print(f"{'ok  ' if result.returncode == 0 else 'FAIL'} {check.name}")
        if result.returncode != 0:
            failed += 1
            print((result.stdout + result.stderr).rstrip(), file=sys.stderr)
    problems = rule_lint.lint(rule_files(args.rules))
    print(f"{'ok  ' if not problems else 'FAIL'} metric names, labels and values known to the catalogue")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    failed += bool(problems)
    print(f"{failed} of the checks failed" if failed else "all checks passed")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    rules = sub.add_parser(
        "rules",
        help="generate SLO rules and test every rule and Alertmanager route",
        description="Prometheus rules and Alertmanager routing: generate SLO rules from rules/slos.yaml, "
        "check and unit-test every rule file with promtool and the Alertmanager config with amtool.",
    )
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    gen = rules_sub.add_parser(
        "generate",
        help="render rules/slos.yaml into Sloth-style recording and burn-rate alert rules",
        description="Render the SLO spec into recording rules (slo:sli_error:ratio_rate*, "
        "slo:error_budget:ratio, ...) and multi-window multi-burn-rate alerts, one file per service.",
    )
    gen.add_argument("--spec", type=Path, default=RULES / "slos.yaml", help="SLO spec (default: %(default)s)")
    gen.add_argument("--out", type=Path, default=RULES / "generated",
                     help="output folder (default: %(default)s)")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if the output is out of date")
    gen.set_defaults(func=_cmd_generate)
    test = rules_sub.add_parser(
        "test",
        help="promtool check/test every rule file, amtool check-config and route every alert",
        description="Run promtool check rules and promtool test rules on the rule folder, amtool "
        "check-config on the Alertmanager config, amtool config routes test for each shipped alert, and "
        "check that every metric, label and value a rule reads is defined by exporters.catalogue.",
    )
    test.add_argument("--rules", type=Path, default=RULES, help="rules folder (default: %(default)s)")
    test.add_argument("--alertmanager", type=Path, default=ALERTMANAGER,
                      help="Alertmanager config (default: %(default)s)")
    test.set_defaults(func=_cmd_test)
