"""Commit rules: the commit-msg hook in a real temporary Git repository accepts and refuses the
design's examples; ranges for CI; bad input gets one clear line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git
import pytest

from llm_sre.cli import main
from operations.governance import load_rules
from tests.fakes import FakeSlackWebhook

ENV = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
       "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    r = git.Repo.init(tmp_path / "repo", initial_branch="feat/login-api")
    assert main(["governance", "install-hook", "--repo", r.working_dir]) == 0
    return r


def _commit(repo: git.Repo, message: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "--allow-empty", "-q", "-m", message, *extra],
                          cwd=repo.working_dir, env=ENV, capture_output=True, text=True, timeout=60)


def test_the_hook_accepts_the_designs_good_messages(repo: git.Repo) -> None:
    for message in ("feat: 로그인 API 추가", "docs: 운영 체크리스트 문서화\n\n배포 시 점검 항목 정리"):
        done = _commit(repo, message)
        assert done.returncode == 0, done.stderr
    assert [c.message.splitlines()[0] for c in repo.iter_commits()] == ["docs: 운영 체크리스트 문서화",
                                                                         "feat: 로그인 API 추가"]


@pytest.mark.parametrize(("message", "rule"), [
    ("update stuff", "type-prefix"),
    ("feature: 로그인 추가", "type-prefix"),
    ("feat: add login api", "description-language"),
    ("fix: 토큰 만료 처리\n\nCo-Authored-By: Claude <noreply@anthropic.com>", "no-co-authored-by"),
])
def test_the_hook_refuses_the_designs_bad_messages(repo: git.Repo, message: str, rule: str) -> None:
    done = _commit(repo, message)
    assert done.returncode != 0
    assert f"{rule}: " in done.stderr
    assert not repo.head.is_valid()  # nothing was committed


def test_a_range_is_checked_commit_by_commit_for_ci(repo: git.Repo, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    # --no-verify: the hook is tested above; here only the range check is
    assert _commit(repo, "chore: 초기 설정", "--no-verify").returncode == 0
    base = repo.head.commit.hexsha
    assert _commit(repo, "wip", "--no-verify").returncode == 0
    assert _commit(repo, "test: 훅 테스트 추가", "--no-verify").returncode == 0
    textfile = tmp_path / "governance.prom"
    code = main(["governance", "check", "--repo", repo.working_dir, "--range", f"{base}..HEAD",
                 "--textfile", str(textfile)])
    err = capsys.readouterr().err
    assert code == 1
    wip = repo.commit("HEAD~1").hexsha[:8]
    assert f"{wip} wip" in err and "초기" not in err and "훅" not in err
    assert 'llm_sre_governance_violations_total{rule="type-prefix"} 1.0' in textfile.read_text()
    assert main(["governance", "check", "--repo", repo.working_dir, "--range", "HEAD~1..HEAD"]) == 0


def test_branch_names_are_checked(repo: git.Repo, capsys: pytest.CaptureFixture[str]) -> None:
    assert _commit(repo, "feat: 로그인 API 추가", "--no-verify").returncode == 0
    repo.git.checkout("-b", "my-branch")
    assert main(["governance", "check", "--repo", repo.working_dir]) == 1
    assert "branch-name: name the branch `<type>/<topic>`" in capsys.readouterr().err


def test_bad_input_gets_one_clear_line(
    tmp_path: Path, repo: git.Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["governance", "check", "--repo", str(plain)]) == 2
    assert capsys.readouterr().err == f"error: {plain.resolve()} is not a Git repository\n"

    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    target: subject\n    require: '(['\n    message: m\n")
    assert main(["governance", "check", "--repo", repo.working_dir, "--rules", str(rules)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {rules}:4: rules.0.require: Value error, not a")

    hook = Path(repo.git_dir) / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\nexit 0\n")  # someone else's hook is not replaced silently
    assert main(["governance", "install-hook", "--repo", repo.working_dir]) == 2
    assert "is not ours; add --force" in capsys.readouterr().err
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_the_shipped_rules_skip_messages_git_writes() -> None:
    rules = load_rules(None)
    assert rules.check_message("Merge branch 'feat/x' into main") == []
    assert rules.check_message("# Please enter the commit message\n\n")[0].rule == "empty-message"
    assert rules.check_message("feat: 로그인 API 추가\n# comment\n# ------------------------ >8 "
                               "------------------------\nCo-Authored-By: x") == []


def test_violations_can_go_to_slack(repo: git.Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _commit(repo, "wip <!channel>", "--no-verify").returncode == 0
    with FakeSlackWebhook() as slack:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{slack.url}/services/T0/B0/x")
        assert main(["governance", "check", "--repo", repo.working_dir, "--slack"]) == 1
        (message,) = slack.messages
    assert message["text"] == "llm-sre governance: 2 violation(s)"
    section = message["blocks"][1]["text"]["text"]
    assert "*type-prefix*" in section and "wip &lt;!channel&gt;" in section
