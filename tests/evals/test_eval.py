"""``llm-sre eval``: the shipped cases with the deterministic analyst, a model (a local server speaking
Ollama's wire format) side by side with ``--compare``, a broken case reported while the run goes on,
and a model server that is down refused before the first case."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from llm_sre.cli import main
from llm_sre.evals.cases import SHIPPED, folders
from llm_sre.processes import free_port
from tests.analysis.fake_llm import FakeModelServer


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["eval", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def echo_evidence(request: dict) -> str:
    """An answer that repeats the prompt's own evidence lines, each citing itself: grounded."""
    prompt = request["messages"][-1]["content"]
    lines = re.findall(r"^(E\d+) \([^)]*\): (.+)$", prompt, re.M)
    claims = [{"evidence": i, "sentence": text} for i, text in lines[:2]]
    return json.dumps({"summary": claims, "root_cause": claims[0], "actions": [], "confidence": 0.7})


def test_the_shipped_cases_run_with_the_deterministic_analyst(capsys) -> None:
    code, out, _ = _run(capsys, "--no-llm", "--json")
    assert code == 0
    (run,) = json.loads(out)["configs"]
    assert run["config"] == "deterministic"
    assert run["totals"]["cases"] == len(folders(SHIPPED)) >= 8
    assert run["totals"]["errors"] == 0
    # The shipped cases are labelled; the deterministic analyst gets every category right.
    assert run["totals"]["category_as_expected"] == f"{run['totals']['cases']}/{run['totals']['cases']}"
    assert all(c["outcome"] == "deterministic" and c["grounded_ratio"] == 1.0 for c in run["cases"])


def test_compare_shows_the_deterministic_analyst_and_the_model_side_by_side(capsys, monkeypatch) -> None:
    with FakeModelServer() as model:
        model.answer = echo_evidence
        monkeypatch.setenv("OLLAMA_HOST", model.url)
        code, out, _ = _run(capsys, "--compare", "--model", "tiny", "--json")
        assert code == 0
        determ, llm = json.loads(out)["configs"]
        assert (determ["config"], llm["config"]) == ("deterministic", "ollama:tiny")
        assert llm["totals"]["accepted"] + llm["totals"]["rejected"] == llm["totals"]["cases"]
        assert llm["totals"]["accepted"] > 0
        accepted = [c for c in llm["cases"] if c["outcome"] == "accepted"]
        assert all(c["tokens_in"] > 0 and c["tokens_out"] > 0 and c["grounded_ratio"] > 0 for c in accepted)
        assert [r.body["model"] for r in model.requests if r.path == "/api/chat"] == ["tiny"] * llm["totals"][
            "cases"
        ]

        # A model that cites evidence that does not exist: caught, rejected, and the cases differ.
        model.answer = None
        model.content = json.dumps(
            {
                "summary": [{"evidence": "E99", "sentence": "The disk is full."}],
                "root_cause": {"evidence": "E98", "sentence": "A cron job filled the disk."},
                "actions": [],
                "confidence": 0.9,
            }
        )
        code, table, _ = _run(capsys, "--compare", "--model", "tiny")
    assert code == 0
    assert "rejected" in table and "differ: " in table and "differ: none" not in table


def test_fabricated_citations_are_counted_per_case(capsys, monkeypatch) -> None:
    with FakeModelServer() as model:
        model.content = json.dumps(
            {
                "summary": [{"evidence": "E99", "sentence": "The disk is full."}],
                "root_cause": {"evidence": "E98", "sentence": "A cron job filled the disk."},
                "actions": [],
                "confidence": 0.9,
            }
        )
        monkeypatch.setenv("OLLAMA_HOST", model.url)
        code, out, _ = _run(capsys, "--model", "tiny", "--json")
    (run,) = json.loads(out)["configs"]
    assert code == 0 and run["totals"]["rejected"] == run["totals"]["cases"]
    assert all(c["fabricated"] == 2 and c["reason"] for c in run["cases"])


def test_a_broken_case_is_reported_and_the_run_goes_on(capsys, tmp_path: Path) -> None:
    for name in ("memory-redis-oom", "cluster-down"):
        shutil.copytree(SHIPPED / name, tmp_path / name)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "case.yaml").write_text("alerts: [ {labels: \n")
    (tmp_path / "no-alerts").mkdir()
    (tmp_path / "no-alerts" / "case.yaml").write_text("logs: [x]\n")
    code, out, _ = _run(capsys, "--cases", str(tmp_path), "--no-llm", "--json")
    assert code == 0
    cases = {c["case"]: c for c in json.loads(out)["configs"][0]["cases"]}
    assert cases["broken"]["outcome"] == "error" and "ParserError" in cases["broken"]["reason"]
    assert cases["no-alerts"]["outcome"] == "error" and "alerts" in cases["no-alerts"]["reason"]
    assert (
        cases["memory-redis-oom"]["category"] == "memory" and cases["cluster-down"]["category"] == "cluster"
    )


def test_a_model_server_that_is_down_is_a_clear_error_before_any_case(capsys, monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{free_port()}")
    code, out, err = _run(capsys, "--model", "tiny")
    assert code == 2 and out == ""
    assert "not answering" in err and "/api/version" in err


def test_no_cases_is_a_clear_error(capsys, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "--cases", str(tmp_path / "missing"), "--no-llm")
    assert code == 2 and "not a folder" in err
