"""Checks that tell a secret number from an id or a timestamp of the same shape.

Shape alone gives false hits on order ids and epoch timestamps, so the masker validates every
digit run it finds: the Luhn checksum and an issuer prefix for card numbers, the check digit and
date for Korean resident registration numbers (RRN), the carrier prefix for Korean mobiles.

    >>> number_kind("4111 1111 1111 1111"), number_kind("1732665600123")
    ('card', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefix ranges (compared as strings of the same width) and the lengths each issues.
# Millisecond and nanosecond epoch timestamps start with 1, which no issuer uses.
_ANY = range(16, 20)
_ISSUERS: tuple[tuple[str, str, Iterable[int]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)), ("2221", "2720", (16,)),  # Mastercard
    ("34", "34", (15,)), ("37", "37", (15,)),  # Amex
    ("300", "305", (14, 16)), ("36", "36", (14, 16)), ("38", "39", (14, 16)),  # Diners
    ("6011", "6011", _ANY), ("644", "649", _ANY), ("65", "65", _ANY),  # Discover
    ("62", "62", _ANY),  # UnionPay
    ("3528", "3589", _ANY),  # JCB
    ("50", "50", range(12, 20)), ("56", "58", range(12, 20)), ("67", "67", range(12, 20)),  # Maestro
)


def card_issuer(digits: str) -> bool:
    n = len(digits)
    return any(lo <= digits[: len(lo)] <= hi and n in lengths for lo, hi, lengths in _ISSUERS)


_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def rrn_ok(digits: str) -> bool:
    """Korean resident registration number: YYMMDD + gender digit + serial + check digit."""
    if len(digits) != 13 or digits[6] not in "12345678":
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        return False
    total = sum(int(d) * w for d, w in zip(digits, _RRN_WEIGHTS, strict=False))
    return (11 - total % 11) % 10 == int(digits[12])


_SEPARATORS = re.compile(r"[ .-]")
_PHONE_PREFIXES = ("010", "011", "016", "017", "018", "019")
_PHONE_SHAPES = ([10], [11], [3, 3, 4], [3, 4, 4])
_AMEX_DINERS_SHAPES = ([4, 6, 5], [4, 6, 4])


def number_kind(raw: str) -> str | None:
    """Classify a digit run as a card number, a Korean RRN or a Korean mobile number, or nothing."""
    if raw.startswith("+82"):
        return "phone"
    if raw.isdigit():  # the common case (timestamps, ids): no separators to untangle
        groups, sep = [raw], ""
    else:
        seps = set(_SEPARATORS.findall(raw))
        if len(seps) > 1:
            return None
        groups, sep = _SEPARATORS.split(raw), seps.pop()
    digits = "".join(groups)
    sizes = [len(g) for g in groups]
    if sizes in ([13], [6, 7]) and sep in ("", "-") and rrn_ok(digits):
        return "rrn"
    if digits.startswith(_PHONE_PREFIXES) and sizes in _PHONE_SHAPES:
        return "phone"
    card_shape = sizes[:-1] == [4] * (len(sizes) - 1) or sizes in _AMEX_DINERS_SHAPES
    if sep != "." and 13 <= len(digits) <= 19 and card_shape and card_issuer(digits) and luhn_ok(digits):
        return "card"
    return None
