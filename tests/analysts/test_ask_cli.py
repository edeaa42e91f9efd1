"""``llm-sre ask``: JSON out, route-only, and the length limit."""

from __future__ import annotations

import json

import pytest

from analysts.settings import get_settings
from llm_sre.cli import main


def test_route_only_json(capsys) -> None:
    assert main(["ask", "are we being brute forced on ssh?", "--route-only", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["analyst"], out["method"]) == ("security", "rules") and out["why"]


def test_answer_json_says_what_is_missing(capsys, monkeypatch) -> None:
    monkeypatch.setenv("LLM_SRE_ANALYST_BACKEND", "none")
    get_settings.cache_clear()
    assert main(["ask", "how can we cut token costs?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"analyst", "why", "answer", "evidence"}
    assert out["analyst"] == "efficiency" and out["answer"].startswith("not enough evidence: missing")


def test_a_question_over_the_limit_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("LLM_SRE_ASK_MAX_CHARS", "20")
    get_settings.cache_clear()
    with pytest.raises(SystemExit, match="longer than 20"):
        main(["ask", "x" * 21])
