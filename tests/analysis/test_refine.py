"""The LLM phase against local servers speaking Ollama's and OpenAI's wire formats.

Whatever the model does — answer well, invent evidence ids, return broken JSON, fail with 500,
hang — the analyst either delivers a grounded answer or keeps the deterministic one, and says why.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import AnalystConfig, IncidentAnalyst
from alert_webhooks.analysis.archive import Archive
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.llm import OllamaLLM, OpenAICompatLLM
from alert_webhooks.analysis.result import AnalysisResult
from llm_sre.processes import free_port
from tests.analysis.fake_llm import FakeModelServer
from tests.analysis.payloads import load_case


def _evidence_id(first: AnalysisResult, needle: str) -> str:
    return next(e.id for e in first.evidence if needle in e.text)


def good_answer(first: AnalysisResult) -> dict:
    log = _evidence_id(first, "OOM command not allowed")
    ratio = _evidence_id(first, "is 100% of maxmemory=")
    rb = _evidence_id(first, "runbook redis-oom")
    return {
        "summary": f"Redis rejects writes with OOM command not allowed [{log}]. "
        f"used_memory is at 100% of maxmemory=4294967296 [{ratio}].",
        "root_cause_analysis": f"maxmemory-policy noeviction refuses writes instead of evicting [{rb}].",
        "immediate_actions": [f"Set maxmemory-policy to allkeys-lru for cache workloads [{rb}]."],
        "detailed_steps": [f"Compare used_memory with maxmemory from INFO memory [{rb}]."],
        "prevention_tips": [],
        "confidence_score": 0.8,
    }


class Run:
    """One analyst, its metrics registry and archive, and the first result for the OOM scenario."""

    def __init__(self, kb: KnowledgeBase, tmp_path, llm, **config: float) -> None:
        self.registry = CollectorRegistry()
        self.archive = Archive(tmp_path / "knowledge.db")
        self.analyst = IncidentAnalyst(
            kb, llm=llm, archive=self.archive, config=AnalystConfig(**config), registry=self.registry
        )
        self.notification, data = load_case("memory-redis-oom")
        self.first = asyncio.run(
            self.analyst.first("inc-1", self.notification, logs=data["logs"], extra_metrics=data["metrics"])
        )

    def refine(self) -> AnalysisResult | None:
        return asyncio.run(self.analyst.refine("inc-1", self.notification, self.first))

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def fallback(self) -> str | None:
        stored = self.archive.get("inc-1")
        assert stored is not None
        return stored.grounding.fallback_reason


@pytest.fixture
def server():
    with FakeModelServer() as fake:
        yield fake


def ollama(server: FakeModelServer) -> OllamaLLM:
    return OllamaLLM(server.url, "qwen2.5:7b", keep_alive="30m", timeout=5)


def test_grounded_ollama_answer_is_delivered(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    server.content = json.dumps(good_answer(run.first))
    better = run.refine()

    assert better is not None
    assert better.grounding.backend == "ollama" and better.grounding.grounded_ratio == 1.0
    assert better.summary.startswith("Redis rejects writes with OOM command not allowed")
    assert better.prevention_tips == run.first.prevention_tips  # an empty LLM field keeps phase one's
    assert better.evidence == run.first.evidence and better.category == "memory"
    assert run.archive.get("inc-1") == better

    sent = server.requests[0].body
    assert sent["format"]["required"] == ["summary", "root_cause_analysis"]
    assert sent["keep_alive"] == "30m" and sent["stream"] is False
    assert sent["options"]["num_ctx"] % 1024 == 0 and sent["options"]["num_ctx"] >= 2048
    assert "OOM command not allowed" in sent["messages"][1]["content"]
    assert "Sup3rS3cretPw" not in json.dumps(sent)  # evidence is masked before the prompt

    assert run.metric("llm_sre_analyst_results_total", backend="ollama") == 1
    assert run.metric("llm_sre_analyst_llm_duration_seconds_count", backend="ollama") == 1
    assert run.metric("llm_sre_analyst_grounded_ratio_sum") == 1.0


def test_unsupported_sentences_are_dropped_and_counted(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    ratio = _evidence_id(run.first, "is 100% of maxmemory=")
    answer["immediate_actions"] += [
        f"Restart redis-7 on 10.0.0.9 [{ratio}].",  # host and address appear in no evidence
        f"Memory reached 97% [{ratio}].",  # the evidence says 100%
    ]
    server.content = json.dumps(answer)
    better = run.refine()

    assert better is not None
    assert better.grounding.dropped_sentences == 2 and better.grounding.grounded_ratio == pytest.approx(
        5 / 7, 1e-3
    )
    assert not any("10.0.0.9" in a or "97%" in a for a in better.immediate_actions)
    assert run.metric("llm_sre_analyst_dropped_sentences_total") == 2


def test_llm_output_is_masked_and_defused(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    leak = _evidence_id(run.first, "session write failed")
    answer["summary"] += f" Session writes failed with password=Sup3rS3cretPw <!channel> [{leak}]."
    server.content = json.dumps(answer)
    better = run.refine()

    assert better is not None
    dumped = better.model_dump_json()
    assert "Sup3rS3cretPw" not in dumped and "<!channel>" not in dumped


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("The cache is full, restart it.", "malformed"),  # prose, not JSON
        ('{"summary": "cut off', "malformed"),  # truncated JSON
        ('{"root_cause_analysis": "no summary"}', "malformed"),  # JSON, wrong schema
        (
            json.dumps({"summary": "Redis is out of memory [E99].", "root_cause_analysis": "Disk [E42]."}),
            "ungrounded",
        ),
        (
            json.dumps({"summary": "Redis is out of memory.", "root_cause_analysis": "Keys lack TTLs."}),
            "ungrounded",
        ),
    ],
)
def test_bad_answers_fall_back_with_reason(kb, tmp_path, server, content: str, reason: str) -> None:
    run = Run(kb, tmp_path, ollama(server))
    server.content = content

    assert run.refine() is None
    assert run.fallback() == reason
    assert run.metric("llm_sre_analyst_fallbacks_total", reason=reason) == 1
    assert run.metric("llm_sre_analyst_results_total", backend="deterministic") == 1


def test_server_error_falls_back(kb, tmp_path, server) -> None:
    from tests.fakes import Failure

    server.failures.append(
        Failure(500, body='{"error":"llama runner process has terminated: signal: killed"}')
    )
    run = Run(kb, tmp_path, ollama(server))
    assert run.refine() is None
    assert run.fallback() == "error"


def test_unreachable_server_falls_back(kb, tmp_path) -> None:
    run = Run(kb, tmp_path, OllamaLLM(f"http://127.0.0.1:{free_port()}", "qwen2.5:7b"))
    assert run.refine() is None
    assert run.fallback() == "error"


def test_slow_model_misses_deadline(kb, tmp_path, server) -> None:
    server.hang = True
    run = Run(kb, tmp_path, ollama(server), deadline=0.3)
    assert run.refine() is None
    assert run.fallback() == "timeout"
    assert run.metric("llm_sre_analyst_llm_duration_seconds_count", backend="ollama") == 1
    assert not server.requests or server.requests[0].path == "/api/chat"


def test_prompt_over_context_budget_is_not_sent(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server), max_context_tokens=2048)
    assert run.refine() is None
    assert run.fallback() == "budget"
    assert server.requests == []


def test_no_backend_means_disabled(kb, tmp_path) -> None:
    run = Run(kb, tmp_path, None)
    assert run.refine() is None
    assert run.fallback() == "disabled"


def test_openai_compatible_backend(kb, tmp_path, server) -> None:
    run = Run(
        kb,
        tmp_path,
        OpenAICompatLLM(f"{server.url}/v1", "gemma-3-270m", api_key="sk-local-test-000000000000"),
    )
    server.content = "```json\n" + json.dumps(good_answer(run.first)) + "\n```"  # fenced, as chat models do
    better = run.refine()

    assert better is not None and better.grounding.backend == "openai"
    sent = server.requests[0]
    assert sent.body["response_format"]["type"] == "json_object"
    assert sent.body["response_format"]["schema"]["required"] == ["summary", "root_cause_analysis"]
    assert sent.headers["Authorization"] == "Bearer sk-local-test-000000000000"


def test_overlong_lists_and_wild_confidence_are_trimmed_not_rejected(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    answer["immediate_actions"] = answer["immediate_actions"] * 12
    answer["confidence_score"] = 1e300
    server.content = json.dumps(answer)
    better = run.refine()

    assert better is not None
    assert len(better.immediate_actions) == 8 and better.confidence_score == 1.0
