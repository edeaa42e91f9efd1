"""The Git side of the commit rules: the commit-msg hook, the current branch, ranges (GitPython)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import stat
import sys
from pathlib import Path

import git
from prometheus_client import CollectorRegistry, write_to_textfile

from alert_webhooks.delivery.slack import escape
from exporters.catalogue import metrics
from operations.governance import Rules, Violation, load_rules
from operations.publish import send_slack, summary
from operations.settings import OperationsSettings
from operations.yamlfile import ConfigError

HOOK_MARK = "# installed by llm-sre governance install-hook"


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ConfigError(f"{path.resolve()} is not a Git repository") from None


def _branch(repo: git.Repo) -> str | None:
    return None if repo.head.is_detached else repo.active_branch.name


def collect(args: argparse.Namespace, rules: Rules) -> list[Violation]:
    """Violations of the message file, the range, or HEAD; plus the branch (when not detached)."""
    repo = open_repo(args.repo)
    found: list[Violation] = []
    if args.message_file is not None:
        try:
            found += rules.check_message(args.message_file.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise ConfigError(f"{args.message_file}: cannot read: {exc.strerror}") from None
    elif args.rev_range:
        try:
            commits = list(repo.iter_commits(args.rev_range))
        except git.GitCommandError as exc:
            raise ConfigError(f"bad range {args.rev_range!r}: {exc.stderr.strip()}") from None
        for commit in commits:
            found += [Violation(v.rule, v.message, f"{commit.hexsha[:8]} {v.subject}")
                      for v in rules.check_message(str(commit.message))]
    elif repo.head.is_valid():
        found += rules.check_message(str(repo.head.commit.message))
    branch = args.branch or _branch(repo)
    if branch:
        found += rules.check_branch(branch)
    return found


def check(args: argparse.Namespace) -> int:
    settings = OperationsSettings()
    rules = load_rules(args.rules or settings.governance_rules)
    violations = collect(args, rules)
    for v in violations:
        print(f"{v.rule}: {v.message}\n    {v.subject}", file=sys.stderr)
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
    argv = [sys.executable, "-m", "llm_sre.cli", "governance", "check", "--message-file"]
    extra = ["--rules", str(args.rules.resolve())] if args.rules else []
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text(f'#!/bin/sh\n{HOOK_MARK}\nexec {shlex.join(argv)} "$1" {shlex.join(extra)}\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"installed {hook} ({len(rules.rules)} rules)")
    return 0
