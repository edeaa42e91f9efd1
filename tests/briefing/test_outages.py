"""Bad days for the briefing itself: Prometheus down or slow, no LLM, an LLM that invents numbers,
and a quiet period — each gives an honest briefing, never an empty success."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.llm import OllamaLLM
from alert_webhooks.sqlite_store import SqliteStore
from briefing.briefer import Briefer
from briefing.engine import brief
from briefing.gather import gather
from briefing.items import Briefing
from briefing.prometheus import Prometheus
from briefing.prose import write_summary
from exporters.catalogue import metrics
from llm_sre.processes import free_port
from tests.analysis.fake_llm import FakeModelServer
from tests.briefing.conftest import Week
from tests.fakes import FakeService

DAY = 86400.0
STEP = 900.0  # coarser than the service's default: a week of trends in a quarter of the points


def _briefer(prom: Prometheus | None, llm=None, registry: CollectorRegistry | None = None, **kw) -> Briefer:
    return Briefer(prom, None, llm, metrics(registry or CollectorRegistry()), **{"step": STEP, **kw})


def test_prometheus_down_names_the_missing_sections_and_why() -> None:
    prom = Prometheus(f"http://127.0.0.1:{free_port()}", timeout=2)
    registry = CollectorRegistry()
    b = asyncio.run(_briefer(prom, registry=registry).brief(1_790_000_000, DAY))
    reasons = {m.section: m.reason for m in b.missing}
    assert set(reasons) == {"top_issues", "trends", "early_warnings", "efficiency"}
    assert reasons["trends"] == "Prometheus unreachable (ConnectError)"
    assert "## Missing" in b.text and "trends: Prometheus unreachable (ConnectError)" in b.text
    assert "Nothing needs attention" not in b.text  # an outage is not a quiet day
    assert registry.get_sample_value("llm_sre_briefing_sections_missing_total", {"section": "trends"}) == 1


class SlowPrometheus(FakeService):
    """A Prometheus that accepts the connection and answers (an empty result) only when released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        self.release.wait(10)
        return 200, {}, {"status": "success", "data": {"resultType": "matrix", "result": []}}

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        super().__exit__(*exc)


def test_slow_prometheus_costs_its_sections_within_the_deadline() -> None:
    with SlowPrometheus() as slow:
        b = asyncio.run(_briefer(Prometheus(slow.url, timeout=30), deadline=0.5).brief(1_790_000_000, DAY))
    reasons = {m.section: m.reason for m in b.missing}
    assert reasons["early_warnings"] == "not gathered within 0.5 s (Prometheus or the store is slow)"
    assert reasons["trends"] == reasons["efficiency"] == reasons["early_warnings"]


def test_a_rejected_query_is_reported_with_prometheus_own_error(week: Week) -> None:
    with_error = Prometheus(week.url)
    try:
        asyncio.run(with_error.instant("sum(", 1_790_000_000))
    except Exception as exc:
        assert str(exc).startswith("query rejected: ") and "parse error" in str(exc)
    else:
        raise AssertionError("a malformed query must raise")


def test_a_quiet_period_says_so_in_one_line(week: Week, tmp_path) -> None:
    # A day before the recorded week: Prometheus answers, with nothing in it; the store is empty.
    store = SqliteStore(tmp_path / "webhook.db")
    briefer = Briefer(Prometheus(week.url), store, None, metrics(CollectorRegistry()), step=STEP)
    b = asyncio.run(briefer.brief(week.scenario.start - DAY, DAY))
    assert b.missing == () and b.quiet
    body = b.text.split("\n\n")
    assert (
        body[1]
        == "Nothing needs attention: no incidents, unusual trends, early warnings or efficiency advice."
    )
    assert "##" not in b.text  # no empty sections padding it out




def _grounded_answer(body: dict) -> str:
    evidence = body["messages"][1]["content"]
    first = re.search(r"\[(E\d+)\] Early warnings: (\S+) memory: ([\d.]+) now", evidence)
    assert first, evidence
    eid, subject, value = first.groups()
    return json.dumps({"summary": [f"{subject} memory is at {value} of its limit and still rising [{eid}]."]})


def test_grounded_llm_summary_is_used_and_its_cost_counted(week: Week) -> None:
    at = week.scenario.leak_crosses - 1.5 * DAY
    registry = CollectorRegistry()
    with FakeModelServer() as server:
        server.answer = _grounded_answer
        llm = OllamaLLM(server.url, "qwen2.5:7b", timeout=10)
        b = asyncio.run(_briefer(Prometheus(week.url), llm, registry).brief(at, DAY))
    assert b.llm.accepted and b.llm.model == "qwen2.5:7b" and b.llm.grounded_ratio == 1.0
    assert b.llm.tokens_in > 100 and b.llm.tokens_out > 5 and b.llm.seconds > 0
    assert "chroma memory is at" in b.text and "[E" not in b.text
    assert "checked against the evidence" in b.text
    assert registry.get_sample_value("llm_sre_briefings_total", {"prose": "llm"}) == 1
    tokens = registry.get_sample_value("llm_sre_briefing_llm_tokens_total", {"gen_ai_token_type": "input"})
    assert tokens == b.llm.tokens_in
    assert registry.get_sample_value("llm_sre_briefing_llm_duration_seconds_count") == 1


@pytest.fixture(scope="module")
def items(week: Week) -> Briefing:
    """One real briefing's items (gathered once), for the prose tests that only differ in the model."""
    inputs = asyncio.run(
        gather(Prometheus(week.url), None, week.scenario.leak_crosses - 1.5 * DAY, DAY, step=STEP)
    )
    return brief(inputs)


def test_an_llm_that_invents_numbers_falls_back_to_the_deterministic_summary(items: Briefing) -> None:
    invented = json.dumps({"summary": ["chroma will run out of memory in 42 minutes [E1].",
                                       "db-primary lost 9000 connections [E2]."]})  # fmt: skip
    with FakeModelServer(content=invented) as server:
        llm = OllamaLLM(server.url, "qwen2.5:7b", timeout=10)
        summary, report = asyncio.run(write_summary(llm, items, deadline=10, threshold=0.6))
    assert summary is None and not report.accepted and report.reason.startswith("ungrounded (2 of 2")
    assert report.grounded_ratio == 0.0 and report.tokens_in > 0


def test_malformed_and_hanging_llms_fall_back_with_their_reason(items: Briefing) -> None:
    with FakeModelServer(content="Sure! Here is your summary.") as server:
        llm = OllamaLLM(server.url, "qwen2.5:7b", timeout=10)
        assert asyncio.run(write_summary(llm, items, 10, 0.6))[1].reason == "malformed answer"
        server.hang = True
        summary, report = asyncio.run(write_summary(llm, items, deadline=0.5, threshold=0.6))
    assert summary is None and report.reason == "timeout after 0.5 s"


def test_an_unreachable_llm_costs_the_prose_not_the_briefing(items: Briefing) -> None:
    llm = OllamaLLM(f"http://127.0.0.1:{free_port()}", "qwen2.5:7b", timeout=2)
    summary, report = asyncio.run(write_summary(llm, items, deadline=10, threshold=0.6))
    assert summary is None and report.reason.startswith("error: Connect") and items.early_warnings
