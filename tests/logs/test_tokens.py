"""Masking of variable tokens: one hand-written line per family of shapes."""

from __future__ import annotations

import pytest

from exporters.tokens import _WHOLE_VALUE, Masker, _mask_parts, is_parameter, mask


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("retrieval took 812ms for 5 docs", "retrieval took <NUM> for <NUM> docs"),
        ("sent 1190 bytes (1.16 KB) in 5 sec", "sent <NUM> (<NUM>) in <NUM>"),  # numbers with unit words
        ("conn from 10.0.3.4:5432 at 2026-11-26T23:01:05.123Z", "conn from <IP> at <TS>"),
        ("bind [fe80::1]:8080 and fe80::2a:1 failed", "bind <IP> and <IP> failed"),
        ("connect db.internal.example:5432 refused", "connect <HOST> refused"),
        ("request 550e8400-e29b-41d4-a716-446655440000 key=4bf92f3577b34da6", "request <UUID> key=<HEX>"),
        ("stack @0x7fed806eb5d mask=ffffffff", "stack @<HEX> mask=<HEX>"),
        ("read /var/lib/ollama/models/x.bin via http://ollama:11434/api/ps", "read <PATH> via <URL>"),
        (r"load C:\Windows\System32\x.dll", "load <PATH>"),
        ("core.2275 of blk_-1608999687919862906 on R02-M1-N0-C:J12-U11 via node-246 up",
         "<ID> of <ID> on <ID>:<ID> via <ID> up"),
        ("class org.apache.hadoop.mapred.Task loaded", "class <NAME> loaded"),
        ('tag="View Lock", uid=10037', "tag=<STR>, uid=<NUM>"),
        ("Failed password for invalid user admin from 1.2.3.4",
         "Failed password for invalid user <USER> from <IP>"),
        ("Invalid user  from 1.2.3.4", "Invalid user from <IP>"),  # an empty name is not the next word
        ("at Dec 10 06:55:46 and 2026-11-26 10:00:01,123 ok", "at <TS> and <TS> ok"),
        ("[  123.456789] Out of memory", "<TS> Out of memory"),
        ("failed: httpx.ConnectError: [Errno 111] Connection refused", "failed: httpx.ConnectError: <MSG>"),
        ("completion failed: httpx.ReadTimeout: timed out", "completion failed: httpx.ReadTimeout: <MSG>"),
        ("wait @0x1 @0x2 @0x3 @0x4 done", "wait @<HEX> done"),  # repeated parameters collapse
        ('INFO: 10.0.0.1:5 - "POST /v1/chat HTTP/1.1" 500 Internal Server Error',
         'INFO: <IP> - "POST <PATH> HTTP/<NUM>" <STATUS>'),  # a status and its reason phrase
        # a word the line repeats as the end of its own path is that path's value
        ("mounting volume DATA, from /srv/vol/DATA", "mounting volume <VALUE>, from <PATH>"),
        (r"open hive users.db at C:\cfg\users.db.", r"open hive <VALUE> at <PATH>"),
        ("reading config from /etc/app/settings.yaml", "reading config from <PATH>"),
        # a timestamp in a file name, and the id after it
        ("copy [2017-07-03_16,06,19.861073]-Reporter-008.xml, done", "copy [<TS>]-<ID>, done"),
    ],
)
def test_mask(message, masked):
    assert mask(message) == masked


def test_masks_are_the_same_cold_and_warm():
    """The token and shape caches never change what a token masks to."""
    lines = ["block blk_123 on node-7 took 15ms", "block blk_98765 on node-12 took 3ms",
             "v2 ready at 10:00:01"]
    cold = [Masker().tokens(line) for line in lines]
    warm = Masker()
    for line in lines:
        warm.tokens(line)
    assert [warm.tokens(line) for line in lines] == cold


def test_a_digit_that_survives_masking_is_not_taken_from_the_shape():
    """``_1`` is no shape any rule masks, so its digit stays - and must stay its own digit."""
    masker = Masker()
    assert masker.tokens("block _1 ready") == ("block", "_1", "ready")
    assert masker.tokens("block _7 ready") == ("block", "_7", "ready")
    assert masker.tokens("0x1f and 1x5") == ("<HEX>", "and", "<ID>")
    assert masker.tokens("0x2e and 2x5") == ("<HEX>", "and", "<ID>")  # one shape per kind of x
    assert masker.tokens("1x2e and 0x5") == ("<ID>", "and", "<HEX>")


@pytest.mark.parametrize("token", [
    "(0x7f92413e3000)", "deadbeef12,", "[550e8400-e29b-41d4-a716-446655440000]", "proxy.example.edu.hk:5070",
    "(a1b2c3d4e5)", "10.1.2.3.example.com:80,"])
def test_whole_token_values_take_a_short_path_to_the_mask_the_full_search_gives(token):
    assert _WHOLE_VALUE.fullmatch(token) is not None
    assert Masker().tokens(token) == (_mask_parts(token),)


def test_words_with_punctuation_and_hex_addresses_take_the_short_path_to_the_same_mask():
    masker = Masker()
    assert masker.tokens("CE sym 2, at 0x0b85eee0, mask 0x05 (done) ciod: ok") == (
        "CE", "sym", "<NUM>,", "at", "<HEX>,", "mask", "<HEX>", "(done)", "ciod:", "ok")


@pytest.mark.parametrize(("token", "expected"), [
    ("<NUM>", True), ("(<NUM>)", True), ("<IP>:", True), ("[REDACTED:password]", True), ("<*>", True),
    ("id=<NUM>", False), ("word", False), ("<b>", False),
])
def test_is_parameter(token, expected):
    assert is_parameter(token) is expected
