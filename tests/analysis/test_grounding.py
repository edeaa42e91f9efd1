"""The grounding check on its own: citations must exist and carry every fact of the sentence."""

from __future__ import annotations

import pytest

from alert_webhooks.analysis.grounding import facts, ground_answer, ground_text, sentences

EVIDENCE = {
    "E1": "alert RedisTooManyConnections firing since 2026-11-26 23:10:00 UTC; service=cache-redis",
    "E2": "3x error: redis.exceptions.ConnectionError: Error 111 connecting to redis-1:6379; refused",
    "E3": "connected_clients=10000 is 100% of maxclients=10000",
}


@pytest.mark.parametrize(
    "sentence",
    [
        "Clients fail with redis.exceptions.ConnectionError on redis-1:6379 [E2].",
        "connected_clients reached 10000, 100% of maxclients [E3].",
        "The alert fired at 23:10:00 UTC [E1]. ",
        "Connections to redis-1:6379 are refused while connected_clients is 10000 [E2, E3].",
        "Connections are refused [E2][E3].",
        "- Raise maxclients after fixing the leak [E3].",
    ],
)
def test_supported_sentences_are_kept(sentence: str) -> None:
    assert ground_text(sentence, EVIDENCE).dropped == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Redis is overloaded.",  # no citation
        "Redis is overloaded [E7].",  # cites evidence that does not exist
        "connected_clients reached 12000 [E3].",  # number not in the cited evidence
        "Clients fail on redis-2:6379 [E2].",  # host not in the evidence
        "ECONNRESET errors spike [E2].",  # error code not in the evidence
        "The alert fired at 23:10:00 UTC [E3].",  # true, but not what E3 says
        "Clients see ConnectionResetError [E2].",  # identifier not in the evidence
        "The leak is on db-primary [E2].",  # a made-up host without digits
        "Fail over to redis-replica [E1, E2].",  # a made-up service name
    ],
)
def test_unsupported_sentences_are_dropped(sentence: str) -> None:
    assert ground_text(sentence, EVIDENCE).kept == []


def test_numbers_match_whole_tokens_only() -> None:
    assert ground_text("Only 100 clients [E3].", EVIDENCE).kept == []  # "100" is not "10000" or "100%"
    assert facts("Restart 2 replicas of redis-7 on 10.0.0.9:6379 [E1].") == ["2", "redis-7", "10.0.0.9:6379"]


def test_hyphenated_names_are_facts_but_english_compounds_are_not() -> None:
    sentence = "cache-redis is out-of-memory, OOM-killed and read-only after a re-index, per-request [E1]."
    assert facts(sentence) == ["cache-redis"]  # the one name an engineer would act on
    assert ground_text(sentence, EVIDENCE).dropped == []  # cache-redis is in E1


def test_sentence_split_keeps_trailing_citations_and_abbreviations() -> None:
    text = "Clients are refused. [E2] Raise limits, e.g. maxclients [E3].\nCheck pools [E3]."
    assert sentences(text) == [
        "Clients are refused [E2].",
        "Raise limits, e.g. maxclients [E3].",
        "Check pools [E3].",
    ]


def test_answer_ratio_and_empty_items() -> None:
    verdict = ground_answer(
        {
            "summary": "Connections are refused [E2]. Memory is at 95% [E3].",
            "immediate_actions": ["Raise maxclients [E3].", "Reboot host db-9 [E1]."],
        },
        EVIDENCE,
    )
    assert verdict.fields == {
        "summary": "Connections are refused [E2].",
        "immediate_actions": ["Raise maxclients [E3]."],
    }
    assert (verdict.kept, verdict.dropped, verdict.ratio) == (2, 2, 0.5)
    assert ground_answer({"summary": ""}, EVIDENCE).ratio == 0.0
