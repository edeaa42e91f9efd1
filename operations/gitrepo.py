"""Reading commits and branches with GitPython for the commit rules.

Kept apart from the CLI (metrics, Slack) so the commit-msg hook imports only this and the rules:
it runs on every commit, and importing the whole command costs seconds on a busy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import git

from operations.governance import Rules, Violation
from operations.yamlfile import ConfigError


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ConfigError(f"{path.resolve()} is not a Git repository") from None


def _branch(repo: git.Repo) -> str | None:
    return None if repo.head.is_detached else repo.active_branch.name


def collect(
    rules: Rules, path: Path, message_file: Path | None = None, rev_range: str | None = None,
    branch: str | None = None,
) -> list[Violation]:
    """Violations of the message file, the range, or HEAD; plus the branch (when not detached)."""
    repo = open_repo(path)
    found: list[Violation] = []
    if message_file is not None:
        try:
            found += rules.check_message(message_file.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise ConfigError(f"{message_file}: cannot read: {exc.strerror}") from None
    elif rev_range:
        try:
            commits = list(repo.iter_commits(rev_range))
        except git.GitCommandError as exc:
            raise ConfigError(f"bad range {rev_range!r}: {exc.stderr.strip()}") from None
        for commit in commits:
            found += [Violation(v.rule, v.message, f"{commit.hexsha[:8]} {v.subject}")
                      for v in rules.check_message(str(commit.message))]
    elif repo.head.is_valid():
        found += rules.check_message(str(repo.head.commit.message))
    branch = branch or _branch(repo)
    if branch:
        found += rules.check_branch(branch)
    return found


def report(violations: list[Violation]) -> None:
    for v in violations:
        print(f"{v.rule}: {v.message}\n    {v.subject}", file=sys.stderr)
