"""``llm-sre docs check`` on this repository (so CI keeps its docs in sync) and on drifted copies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_sre.cli import main
from tests.exporters.fake_ollama import FakeOllama

REPO = Path(__file__).resolve().parents[2]


def test_this_repository_is_in_sync(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["docs", "check", "--root", str(REPO)])
    out = capsys.readouterr().out
    assert code == 0, out  # on drift: `llm-sre docs check --fix`, and document new variables
    assert out.count("ok ") == 4


@pytest.fixture
def drifted(tmp_path: Path) -> Path:
    """A copy of the docs with one drift of each kind."""
    root = tmp_path / "copy"
    shutil.copytree(REPO / "docs", root / "docs")
    shutil.copy(REPO / "README.md", root / "README.md")
    shutil.copy(REPO / "docker-compose.yml", root / "docker-compose.yml")
    spec_path = root / "docs" / "api" / "openapi.json"
    spec = json.loads(spec_path.read_text())
    del spec["paths"]["/readyz"]
    spec["paths"]["/healthz"]["get"]["summary"] = "Old name"
    spec["paths"]["/api/v1/legacy"] = {"get": {}}
    spec_path.write_text(json.dumps(spec))
    metrics = root / "docs" / "metrics.md"
    metrics.write_text("".join(line for line in metrics.read_text().splitlines(keepends=True)
                               if "`llm_sre_check_status`" not in line))
    ops = root / "docs" / "operations.md"
    ops.write_text(ops.read_text().replace("| `error_ratio`: warn ≥ 0.01, fail ≥ 0.05 |", "| warn ≥ 0.02 |")
                   .replace("| `LLM_SRE_CHECK_TIMEOUT_SECONDS` |", "| `LLM_SRE_CHECK_TIMEOUT` |"))
    return root


def test_a_drifted_copy_fails_with_each_difference(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "check", "--root", str(drifted)]) == 1
    out = capsys.readouterr().out
    assert '+ paths["/readyz"] (in the app, not in the committed file)' in out
    assert '- paths["/api/v1/legacy"] (in the committed file, not in the app)' in out
    assert '~ paths["/healthz"].get.summary: committed "Old name", app "Healthz"' in out
    assert "+ catalogue: | `llm_sre_check_status` | gauge |" in out
    assert "- operations.md: | `error_ratio` | 24 h error rate | warn ≥ 0.02 |" in out
    assert ("+ LLM_SRE_CHECK_TIMEOUT_SECONDS is read by operations.settings.OperationsSettings."
            "check_timeout_seconds but no table documents it") in out
    assert "- LLM_SRE_CHECK_TIMEOUT is documented at docs/operations.md:" in out

    assert main(["docs", "check", "--root", str(drifted), "--fix"]) == 1  # variables stay a human's job
    out = capsys.readouterr().out
    assert out.count("ok ") == 3 and "DRIFT  environment variables" in out
    assert (drifted / "docs" / "metrics.md").read_text() == (REPO / "docs" / "metrics.md").read_text()
    assert json.loads((drifted / "docs/api/openapi.json").read_text()) == json.loads(
        (REPO / "docs/api/openapi.json").read_text())


def test_a_user_app_with_docstring_drafts_from_the_local_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "openapi.json"
    args = ["docs", "check", "--root", str(tmp_path), "--app", "tests.operations.sample_app:app",
            "--openapi", str(spec), "--settings", "tests.operations.sample_app:SampleSettings"]
    (tmp_path / "README.md").write_text("| variable | default |\n|---|---|\n| `CHROMA_DIR` | `./data` |\n")
    assert main(args) == 1
    assert f"{spec} is missing" in capsys.readouterr().out
    assert main([*args, "--fix"]) == 0
    source = (REPO / "tests/operations/sample_app.py").read_text()
    with FakeOllama() as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setenv("LLM_SRE_ANALYST_BACKEND", "ollama")
        drafts = tmp_path / "drafts.md"
        assert main([*args, "--suggest-docstrings", str(drafts)]) == 0
        ((_, body),) = [r for r in ollama.requests if r[0] == "/api/chat"]
    text = drafts.read_text()
    assert "## POST /voc/chat — `tests.operations.sample_app.chat`" in text and "/health" not in text
    assert '"""Hello there"""' in text  # the stand-in's answer, as the draft
    assert "async def chat" in body["messages"][0]["content"]  # the model saw the route's source
    assert (REPO / "tests/operations/sample_app.py").read_text() == source  # code is never edited


def test_a_bad_app_spec_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "check", "--root", str(tmp_path), "--app", "no_such_module:app"]) == 2
    assert capsys.readouterr().err.startswith("error: no_such_module:app: cannot import no_such_module")
