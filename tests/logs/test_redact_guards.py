"""The masker's shortcuts (literal hints, per-rule guards) only skip work, never change a result.

``redact`` wakes a rule only when one of its hints occurs and then skips it when its guard says the
pattern cannot match. The reference here runs every rule's regex on every string, unguarded
(``Rule.apply``): on the corpus and on generated strings built from the pieces the rules look for
(hint words, digit runs with separators, key/value separators, the non-ASCII letters ``re`` folds).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.redact import RULES, redact, redact_mapping, secret_key_kind

from .conftest import clean_lines, secret_rows

GUARDED = [rule for rule in RULES if rule.guard is not None]


def every_rule(text: str) -> str:
    for rule in RULES:
        text = rule.apply(text)
    return text


def corpus() -> list[str]:
    return [line for _, _, line in secret_rows()] + clean_lines()


# Pieces that make rules match, half-match or fall just short: hints in both cases, the corpus'
# fake secrets, digit runs of every length with separators, and characters re folds to ASCII.
_HINTS = sorted({hint for rule in RULES for hint in rule.hints})
_PIECES = st.one_of(
    st.sampled_from(_HINTS),
    st.sampled_from(_HINTS).map(str.upper),
    st.sampled_from([secret for _, secret, _ in secret_rows()]),
    st.from_regex(r"\+?8?2?[0-9]{1,6}(?:[ .-]?[0-9]{1,6}){0,4}", fullmatch=True),
    st.sampled_from(["=", ": ", ":", "@", "://", '"', "'", " ", "\n", "\t", "-", "--", ";", "&", "/", "."]),
    st.sampled_from(["\u0130", "\u0131", "\u017f", "\u212a", "\u0663", "\uff11"]),  # İ ı ſ K ٣ １
    st.text(string.ascii_letters + string.digits + " .-_:=@/", max_size=12),
)
TEXTS = st.lists(_PIECES, max_size=12).map("".join)


@pytest.mark.parametrize("rule", GUARDED, ids=lambda r: r.guard.__name__)
def test_a_false_guard_means_the_pattern_cannot_match_any_corpus_line(rule):
    lines = corpus()
    # Also the shortened lines: guards are about length and literals, and short strings take them.
    pieces = [line[i:i + 24] for line in lines for i in range(0, len(line), 12)]
    for text in lines + pieces:
        if not rule.guard(text):
            assert rule.pattern.search(text) is None, text


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_a_false_guard_means_the_pattern_cannot_match_generated_text(text):
    for rule in GUARDED:
        if not rule.guard(text):
            assert rule.pattern.search(text) is None, rule.guard.__name__


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_redact_equals_every_rule_unguarded_on_generated_text(text):
    assert redact(text) == every_rule(text)


def test_redact_equals_every_rule_unguarded_on_the_corpus():
    for line in corpus():
        assert redact(line) == every_rule(line), line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # re's IGNORECASE folds ſ to s: the key matched, and its lookup used to raise KeyError.
        ("pa\u017f\u017fword=abc123", "pa\u017f\u017fword=[REDACTED:password]"),
        # İ lower-cases to two characters: the hint scan used to miss "authorization" here.
        ("author\u0130zation: token abcdef12345", "author\u0130zation: token [REDACTED:token]"),
    ],
)
def test_letters_that_re_folds_are_masked_and_do_not_raise(text, expected):
    assert redact(text) == expected == every_rule(text)


def test_secret_key_names_with_folded_letters_and_plain_names():
    assert secret_key_kind("db_pa\u017f\u017fword") == "password"
    assert secret_key_kind("DB_PASSWORD") == "password"
    assert secret_key_kind("alertname") is None
    assert redact_mapping({"Client_Secret": "x1", "alertname": "HighErrorRate"}) == {
        "Client_Secret": "[REDACTED:secret]", "alertname": "HighErrorRate"
    }


@settings(max_examples=300, deadline=None)
@given(st.text(string.ascii_letters + "_-", min_size=1, max_size=24))
def test_ascii_key_shortcut_agrees_with_the_key_regex(key):
    """``secret_key_kind`` answers ASCII keys with ``endswith``; the regex is the reference."""
    from exporters.redact import _SECRET_KEY

    m = _SECRET_KEY.search(key)
    assert (secret_key_kind(key) is None) == (m is None)
