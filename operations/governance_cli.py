"""``llm-sre governance check`` and ``install-hook``: the rules plus metrics and Slack."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import stat
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile

from alert_webhooks.delivery.slack import escape
from exporters.catalogue import metrics
from operations.gitrepo import collect, open_repo, report
from operations.governance import load_rules
from operations.publish import send_slack, summary
from operations.settings import OperationsSettings
from operations.yamlfile import ConfigError

HOOK_MARK = "# installed by llm-sre governance install-hook"


def check(args: argparse.Namespace) -> int:
    settings = OperationsSettings()
    rules = load_rules(args.rules or settings.governance_rules)
    violations = collect(rules, args.repo, args.message_file, args.rev_range, args.branch)
    report(violations)
    registry = CollectorRegistry()
    counter = metrics(registry)["llm_sre_governance_violations_total"]
    for v in violations:
        counter.labels(rule=v.rule).inc()
    if args.textfile:
        write_to_textfile(str(args.textfile), registry)
    if violations and args.slack:
        lines = [f"*{escape(v.rule)}*: {escape(v.message)} — `{escape(v.subject[:200])}`" for v in violations]
        title = f"llm-sre governance: {len(violations)} violation(s)"
        asyncio.run(send_slack(settings, summary(title, lines)))
    return 1 if violations else 0


def install_hook(args: argparse.Namespace) -> int:
    repo = open_repo(args.repo)
    # --git-path honours core.hooksPath and linked worktrees.
    hooks = Path(repo.git.rev_parse("--git-path", "hooks"))
    hooks = hooks if hooks.is_absolute() else Path(repo.working_dir) / hooks
    hook = hooks / "commit-msg"
    if hook.exists() and HOOK_MARK not in hook.read_text(errors="replace") and not args.force:
        raise ConfigError(f"{hook} exists and is not ours; add --force to replace it")
    rules = load_rules(args.rules)  # refuse a bad file now, not at the first commit
    argv = [sys.executable, "-m", "operations.hook"]
    extra = ["--rules", str(args.rules.resolve())] if args.rules else []
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text(f'#!/bin/sh\n{HOOK_MARK}\nexec {shlex.join(argv)} "$1" {shlex.join(extra)}\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"installed {hook} ({len(rules.rules)} rules)")
    return 0
