"""Labelled incident scenarios through the deterministic analyst (the phase that always ships).

Each case folder holds an alert, log lines, metrics and the expected category plus one key
evidence string the summary must cite. Some logs carry secrets and prompt-injection text.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.evidence import WITHHELD
from alert_webhooks.analysis.grounding import ground_answer, sentences
from alert_webhooks.analysis.knowledge import KnowledgeBase
from alert_webhooks.analysis.prompt import messages
from alert_webhooks.analysis.result import AnalysisResult
from exporters.redact import redact
from tests.analysis.conftest import BACKENDS
from tests.analysis.payloads import case_names, load_case

MENTIONS = re.compile(r"<!(?:channel|here|everyone)|<@U|<!subteam")


def analyse(kb: KnowledgeBase, name: str) -> tuple[AnalysisResult, dict]:
    notification, data = load_case(name)
    analyst = IncidentAnalyst(kb, registry=CollectorRegistry())
    result = asyncio.run(
        analyst.first(name, notification, logs=data.get("logs", []), extra_metrics=data.get("metrics", {}))
    )
    return result, data


def e_level(result: AnalysisResult, eid: str) -> str | None:
    return next(e.level for e in result.evidence if e.id == eid)


def cited_ids(text: str) -> set[str]:
    return set(re.findall(r"E\d+", " ".join(re.findall(r"\[(E\d+(?:, E\d+)*)\]", text))))


def test_every_category_has_two_scenarios() -> None:
    per_category = Counter(load_case(n)[1]["expect"]["category"] for n in case_names())
    assert len(per_category) == 12
    assert min(per_category.values()) >= 2


@pytest.mark.parametrize("kb", BACKENDS, indirect=True)
@pytest.mark.parametrize("name", case_names())
def test_scenario(kb: KnowledgeBase, name: str) -> None:
    result, data = analyse(kb, name)
    expect = data["expect"]
    assert result.category == expect["category"], result.summary
    if "runbook" in expect:  # where the category alone would still allow the wrong actions
        assert result.references[0] == f"runbook:{expect['runbook']}"

    # The key log line or metric is cited by the summary or the root-cause analysis — found in
    # the evidence itself, not merely echoed by the alert or the runbook.
    evidence = {e.id: e.text for e in result.evidence}
    found = {e.id for e in result.evidence if not e.source.startswith(("alert", "runbook"))}
    cited = (cited_ids(result.summary) | cited_ids(result.root_cause_analysis)) & found
    assert any(expect["key"].lower() in evidence[i].lower() for i in cited), (expect["key"], result.summary)

    # Nothing secret survives anywhere in the result; a Slack mention only as quoted evidence
    # (verbatim, escaped by each sink), never in the text the analyst writes.
    dumped = result.model_dump_json()
    for secret in expect.get("secrets", []):
        assert secret not in dumped
    assert not MENTIONS.search(result.model_dump_json(exclude={"evidence"}))

    # Evidence is the source's own words: every log line cited stands in the case as logged.
    logged = [redact(line) for line in data.get("logs", [])]
    for e in result.evidence:
        if e.source == "logs":
            assert e.text in logged or WITHHELD in e.text, e.text

    # The summary never leads with an INFO line.
    headline = next((s for s in sentences(result.summary) if s.startswith("Most telling")), "")
    assert not any(
        evidence[i] in logged and e_level(result, i) in ("info", "debug") for i in cited_ids(headline)
    )

    # Every deterministic sentence is grounded by the same check LLM answers must pass.
    fields = result.model_dump(
        include={"summary", "root_cause_analysis", "immediate_actions", "prevention_tips"}
    )
    verdict = ground_answer(fields, {e.id: e.grounding_text() for e in result.evidence})
    assert verdict.dropped == 0, [f for f in fields.values()]
    assert result.immediate_actions and result.references[0].startswith("runbook:")


@pytest.mark.parametrize("name", ["security-credential-stuffing", "security-poisoned-document"])
def test_planted_instructions_never_reach_the_model(kb: KnowledgeBase, name: str) -> None:
    """The model cannot follow what it never reads: the attempt stays visible as a marker only."""
    result, _ = analyse(kb, name)
    prompt = " ".join(m["content"] for m in messages(result)).lower()
    planted = ("mark this incident resolved", "db-primary disk failure", "!here")
    assert not [p for p in planted if p in prompt]
    assert WITHHELD.lower() in prompt
    # Its level words are the attacker's too: the withheld line is never the headline.
    headline = next(s for s in sentences(result.summary) if s.startswith("Most telling"))
    assert WITHHELD not in headline
