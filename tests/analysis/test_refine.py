"""The LLM phase against a local server speaking Ollama's and OpenAI's streaming wire formats.

Whatever the model does — answer well, invent evidence ids, return broken JSON, parrot the prompt,
declare the incident over, fail with 500, hang, loop past the deadline — the analyst either
delivers a grounded answer or keeps the deterministic one, and says why on the result.
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
from alert_webhooks.analysis.prompt import ANSWER_TOKENS
from alert_webhooks.analysis.result import AnalysisResult
from llm_sre.processes import free_port
from tests.analysis.fake_llm import FakeModelServer
from tests.analysis.payloads import load_case
from tests.fakes import Failure


def _evidence_id(first: AnalysisResult, needle: str) -> str:
    return next(e.id for e in first.evidence if needle in e.text)


def claim(evidence: str, sentence: str) -> dict:
    return {"evidence": evidence, "sentence": sentence}


def good_answer(first: AnalysisResult) -> dict:
    log = _evidence_id(first, "OOM command not allowed")
    ratio = _evidence_id(first, "is 100% of maxmemory=")
    rb = _evidence_id(first, "runbook redis-oom")
    return {
        "summary": [
            claim(log, "Redis rejects writes with OOM command not allowed."),
            claim(ratio, "used_memory is at 100% of maxmemory=4294967296."),
        ],
        "root_cause": claim(rb, "maxmemory-policy noeviction refuses writes instead of evicting."),
        "actions": ["A2", "A1"],
        "confidence": 0.8,
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

    def refine(self) -> AnalysisResult:
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
    return OllamaLLM(server.url, "qwen2.5:7b", keep_alive="30m", timeout=5, num_ctx=8192)


def openai(server: FakeModelServer) -> OpenAICompatLLM:
    return OpenAICompatLLM(
        f"{server.url}/v1", "gemma-3-270m", api_key="sk-local-test-000000000000", timeout=5
    )


def test_grounded_ollama_answer_is_delivered(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    server.content = json.dumps(good_answer(run.first))
    better = run.refine()

    assert better.grounding.fallback_reason is None
    assert better.grounding.backend == "ollama" and better.grounding.grounded_ratio == 1.0
    log = _evidence_id(run.first, "OOM command not allowed")
    assert better.summary.startswith(f"Redis rejects writes with OOM command not allowed [{log}].")
    # The model ranks the runbook's actions; it cannot invent one or drop one.
    assert better.immediate_actions[:2] == [run.first.immediate_actions[1], run.first.immediate_actions[0]]
    assert sorted(better.immediate_actions) == sorted(run.first.immediate_actions)
    assert better.prevention_tips == run.first.prevention_tips
    assert better.evidence == run.first.evidence and better.category == "memory"
    assert run.archive.get("inc-1") == better

    sent = server.requests[0].body
    claim_schema = sent["format"]["properties"]["root_cause"]["properties"]["evidence"]
    assert claim_schema["enum"] == [e.id for e in run.first.evidence]  # only ids that exist
    assert sent["format"]["properties"]["actions"]["items"]["enum"][:2] == ["A1", "A2"]
    assert sent["stream"] is True and sent["keep_alive"] == "30m"
    assert sent["options"]["num_ctx"] == 8192  # fixed: a changing num_ctx reloads the model
    assert sent["options"]["num_predict"] == ANSWER_TOKENS and sent["options"]["repeat_penalty"] > 1
    prompt = sent["messages"][1]["content"]
    assert "used memory > 'maxmemory'" in prompt  # the log line as logged
    assert "Sup3rS3cretPw" not in json.dumps(sent)  # evidence is masked before the prompt
    assert "maxItems" not in json.dumps(sent["messages"])  # fields described, not the raw schema

    assert run.metric("llm_sre_analyst_results_total", backend="ollama") == 1
    assert run.metric("llm_sre_analyst_llm_duration_seconds_count", backend="ollama") == 1
    assert run.metric("llm_sre_analyst_grounded_ratio_sum") == 1.0


def test_unsupported_sentences_are_dropped_and_counted(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    ratio = _evidence_id(run.first, "is 100% of maxmemory=")
    answer["summary"].append(claim(ratio, "Memory reached 97%."))  # the evidence says 100%
    server.content = json.dumps(answer)
    better = run.refine()

    assert better.grounding.fallback_reason is None
    assert better.grounding.dropped_sentences == 1 and better.grounding.grounded_ratio == 0.75
    assert "97%" not in better.summary
    assert run.metric("llm_sre_analyst_dropped_sentences_total") == 1


def test_llm_output_is_masked(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    leak = _evidence_id(run.first, "session write failed")
    answer["summary"].append(claim(leak, "Session writes failed with password=Sup3rS3cretPw."))
    server.content = json.dumps(answer)

    assert "Sup3rS3cretPw" not in run.refine().model_dump_json()


def test_raw_newlines_inside_strings_are_read_leniently(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    server.content = json.dumps(good_answer(run.first)).replace("Redis rejects", "Redis\nrejects")
    assert run.refine().grounding.fallback_reason is None


def _claims(first: AnalysisResult, *sentences: tuple[str, str]) -> str:
    answer = good_answer(first)
    answer["summary"] = [claim(_evidence_id(first, needle), s) for needle, s in sentences]
    return json.dumps(answer)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda f: "The cache is full, restart it.", "malformed"),  # prose, not JSON
        (lambda f: '{"summary": [{"evidence": "E1", "sentence": "cut off', "malformed"),  # truncated
        (lambda f: '{"root_cause_analysis": "no summary"}', "malformed"),  # JSON, wrong schema
        (lambda f: json.dumps({**good_answer(f), "items": {"maxItems": 3}}), "echo"),  # the schema back
        (  # the prompt's field description back
            lambda f: _claims(f, ("alert", "what that evidence shows")),
            "echo",
        ),
        (lambda f: _claims(f, ("alert", "Redis is out of memory on redis-7 at 10.0.0.9.")), "ungrounded"),
        (  # factless claims a citation cannot make true
            lambda f: _claims(f, ("alert", "The incident has resolved itself and no action is needed.")),
            "refused",
        ),
        (lambda f: _claims(f, ("runbook", "Restart the primary and flush all keys.")), "refused"),
    ],
)
def test_bad_answers_fall_back_with_reason(kb, tmp_path, server, content, reason: str) -> None:
    run = Run(kb, tmp_path, ollama(server))
    server.content = content(run.first)
    final = run.refine()

    assert final.summary == run.first.summary and final.grounding.backend == "deterministic"
    assert final.grounding.fallback_reason == reason == run.fallback()
    assert run.metric("llm_sre_analyst_fallbacks_total", reason=reason) == 1
    assert run.metric("llm_sre_analyst_results_total", backend="deterministic") == 1
    # Judged answers keep their share of grounded sentences (the root cause held, the claim not).
    judged = reason in ("ungrounded", "refused")
    assert final.grounding.rejected_ratio == (0.5 if judged else None)


def test_server_error_falls_back(kb, tmp_path, server) -> None:
    server.failures.append(
        Failure(500, body='{"error":"llama runner process has terminated: signal: killed"}')
    )
    run = Run(kb, tmp_path, ollama(server))
    assert run.refine().grounding.fallback_reason == "error" == run.fallback()


def test_unreachable_server_falls_back(kb, tmp_path) -> None:
    run = Run(kb, tmp_path, OllamaLLM(f"http://127.0.0.1:{free_port()}", "qwen2.5:7b"))
    assert run.refine().grounding.fallback_reason == "error"


@pytest.mark.parametrize("backend", [ollama, openai])
def test_the_deadline_closes_the_stream_and_frees_the_model(kb, tmp_path, server, backend) -> None:
    """A model still generating at the deadline is cut off: its server sees the stream close."""
    # Deadline 3 s (a loaded CI machine needs time to even send the request); the answer would
    # stream for ~60 s at 50 ms a piece.
    run = Run(kb, tmp_path, backend(server), deadline=3)
    server.content = json.dumps(good_answer(run.first)) * 80
    server.token_gap = 0.05
    assert run.refine().grounding.fallback_reason == "timeout"
    assert server.disconnected.wait(5)
    assert 0 < server.pieces_sent < len(server.content) // server.piece // 2
    assert run.metric("llm_sre_analyst_llm_duration_seconds_count", backend=backend(server).backend) == 1


def test_a_hung_server_misses_the_deadline(kb, tmp_path, server) -> None:
    server.hang = True
    run = Run(kb, tmp_path, ollama(server), deadline=0.3)
    assert run.refine().grounding.fallback_reason == "timeout"


def test_prompt_over_context_budget_is_not_sent(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server), max_context_tokens=1024)
    assert run.refine().grounding.fallback_reason == "prompt_too_large"
    assert server.requests == []


def test_no_backend_means_disabled(kb, tmp_path) -> None:
    run = Run(kb, tmp_path, None)
    assert run.refine().grounding.fallback_reason == "disabled" == run.fallback()


def test_openai_compatible_backend_streams(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, openai(server))
    server.content = "```json\n" + json.dumps(good_answer(run.first)) + "\n```"  # fenced, as chat models do
    better = run.refine()

    assert better.grounding.fallback_reason is None and better.grounding.backend == "openai"
    sent = server.requests[0]
    assert sent.body["stream"] is True and sent.body["max_tokens"] == ANSWER_TOKENS
    assert sent.body["response_format"]["type"] == "json_object"
    schema = sent.body["response_format"]["schema"]
    assert schema["properties"]["summary"]["items"]["properties"]["evidence"]["enum"][0] == "E1"
    assert sent.headers["Authorization"] == "Bearer sk-local-test-000000000000"


def test_overlong_lists_and_wild_confidence_are_trimmed_not_rejected(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    answer["summary"] = answer["summary"] * 4
    answer["confidence"] = 1e300
    server.content = json.dumps(answer)
    better = run.refine()

    assert better.grounding.fallback_reason is None
    assert better.summary.count("OOM command not allowed") == 2  # three sentences kept, not eight
    assert better.confidence_score == 1.0


def test_every_sentence_of_a_claim_carries_its_citation(kb, tmp_path, server) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    log = _evidence_id(run.first, "OOM command not allowed")
    answer["summary"] = [claim(log, "Redis is full. Writes fail with OOM command not allowed.")]
    server.content = json.dumps(answer)
    better = run.refine()

    assert better.summary == f"Redis is full [{log}]. Writes fail with OOM command not allowed [{log}]."
    assert better.grounding.dropped_sentences == 0


def test_a_quoted_line_cited_by_the_wrong_id_is_cited_by_the_line_holding_its_facts(
    kb, tmp_path, server
) -> None:
    run = Run(kb, tmp_path, ollama(server))
    answer = good_answer(run.first)
    alert = _evidence_id(run.first, "alert RedisOutOfMemory")
    log = next(e.id for e in run.first.evidence if e.source == "logs" and "OOM command" in e.text)
    answer["summary"] = [
        claim(alert, "Redis answers OOM command not allowed."),  # the facts are in the log line
        claim(alert, "Memory hit 97% on redis-7."),  # in no evidence: still dropped
    ]
    server.content = json.dumps(answer)
    better = run.refine()

    assert better.summary == f"Redis answers OOM command not allowed [{log}]."
    assert better.grounding.dropped_sentences == 1
