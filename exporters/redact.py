"""Secret masking used on every path that leaves the process.

Loki shipping, LLM prompts, Slack messages, Grafana annotations, our own logs and the incident
store all pass text through :func:`redact`, which replaces each secret with a typed marker::

    >>> redact("curl -H 'Authorization: Bearer abc.def123456' https://u:hunter2@db.local/x")
    "curl -H 'Authorization: Bearer [REDACTED:bearer]' https://u:[REDACTED:url_password]@db.local/x"

Why hand-written rules rather than a scanner library: detect-secrets and gitleaks are built to
*find* secrets in repositories (entropy plugins flag trace ids and digests, ~3k lines/s, and
they do not return spans to replace), while this runs on every log line. Each rule therefore
carries cheap literal *hints*: a rule's regex only runs when one of its hints occurs in the
lower-cased line, and a woken rule's cheap *guard* (a literal it needs, a digit count) can still
skip it, so a clean line costs one hint scan and a digit count (~0.5 µs for an alert label).
Numbers (cards, Korean ids and phones) are validated (Luhn, issuer prefix, checksum, date)
because shape alone gives false hits on order ids and timestamps. The rules themselves live in
:mod:`exporters.secret_rules`, the number checks in :mod:`exporters.checksums`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from exporters.secret_rules import KEY_KINDS, KEY_TRIE, MARKER, RULES, key_entry, marker, trie_pattern

__all__ = [
    "RULES", "RedactingFilter", "marker", "new_secret_kinds", "redact", "redact_lines", "redact_mapping",
    "secret_key_kind",
]

# One regex (a prefix tree) finds every hint in a single pass; a loop of ``in`` checks per rule
# costs 3x more. The longest hint wins at a position, and each found hint also wakes the rules
# whose hints it contains, so "sk-ant-" still wakes the OpenAI rule (hint "sk-") it hides.
_HINTED = tuple(rule for rule in RULES if rule.hints)
_ALWAYS = tuple(rule for rule in RULES if not rule.hints)
_HINT_WORDS = sorted({h for rule in _HINTED for h in rule.hints})
_HINT_SCAN = re.compile(trie_pattern(_HINT_WORDS))
_HINT_RULES: dict[str, frozenset[int]] = {
    word: frozenset(i for i, rule in enumerate(_HINTED) if any(h in word for h in rule.hints))
    for word in _HINT_WORDS
}
# Case-insensitive rules match these too (``re`` folds them to i, s, k; ``str.lower`` does not, or
# turns ``İ`` into two characters), so the hint scan must see them folded or it would not wake a
# rule that matches ``authorİzation: …``. Folded before lowering; only non-ASCII text pays for it.
_RE_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def _hint_text(text: str) -> str:
    return text.lower() if text.isascii() else text.translate(_RE_FOLDS).lower()


def redact(text: str) -> str:
    """Return ``text`` with every secret replaced by ``[REDACTED:<kind>]``.

    Idempotent (markers are never re-masked) and length-agnostic: multi-line text, such as a PEM
    block or a traceback, is masked as a whole.
    """
    found = _HINT_SCAN.findall(_hint_text(text))
    if found:
        # Rule order matters (specific kinds before the generic key=value rule): sort the indices.
        for i in sorted(set().union(*map(_HINT_RULES.__getitem__, found))):
            text = _HINTED[i].apply_guarded(text)
    for rule in _ALWAYS:
        text = rule.apply_guarded(text)
    return text


# A whole key name that says its value is a secret (``db_password``, ``clientSecret``, ``hf_token``).
_SECRET_KEY = re.compile(r"(?i)(?:" + KEY_TRIE + r")$")
# For an ASCII key the regex above is exactly "the lower-cased key ends in a spelling", which
# ``str.endswith`` answers 3x faster; non-ASCII keys keep the regex (``re`` folds ``ſ`` to s).
_KEY_SPELLINGS = tuple(KEY_KINDS)


def secret_key_kind(key: str) -> str | None:
    """The marker kind for a field named ``key`` if its name says it holds a secret, else None."""
    if key.isascii() and not key.lower().endswith(_KEY_SPELLINGS):
        return None
    m = _SECRET_KEY.search(key)
    return None if m is None else key_entry(m.group(0))[0]


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """Mask a structured record: values under secret-named keys whole, other strings by content.

    ``{"password": "x"}`` has no secret *shape* for :func:`redact` to find; the key gives it away.
    Numbers under token keys stay (``prompt_token: 57`` is a count).
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = secret_key_kind(str(key))
        counter = kind == "token" and isinstance(value, str) and value.isdigit()
        if kind is not None and isinstance(value, str) and value and not counter:
            out[key] = marker(kind)
        else:
            out[key] = _redact_value(value)
    return out


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=]*|Proc-Type:.*|DEK-Info:.*")


def redact_lines(lines: Iterable[str]) -> Iterator[str]:
    """Mask a stream line by line, one line out per line in, including PEM bodies.

    A PEM key spans lines; :func:`redact` alone would only see its header line, so the body
    lines after a BEGIN line are replaced whole. Key mode ends at END or at the first line that
    is not base64 (a truncated key must not swallow the rest of the log).
    """
    in_key = False
    for line in lines:
        body = line.rstrip("\r\n")
        eol = line[len(body) :]
        if in_key:
            end = _PEM_END.search(body)
            if end is not None:
                body = marker("private_key") + body[end.end() :]
                in_key = False
            elif _PEM_BODY.fullmatch(body.strip()):
                yield marker("private_key") + eol
                continue
            else:
                in_key = False
        elif (begin := _PEM_BEGIN.search(body)) and not _PEM_END.search(body, begin.end()):
            in_key = True
        yield redact(body) + eol


MARKER_HEAD = MARKER.split("{", 1)[0]  # "[REDACTED:": a cheap test before counting markers
_MARKERS = re.compile(re.escape(MARKER_HEAD) + r"([a-z0-9_]{1,40})\]")
# Personal data the masker also replaces: masked, but not a credential to rotate, and auth logs name
# users by email on every line, so counting it as a secret seen would keep the alert firing.
PERSONAL_KINDS = frozenset({"email", "phone", "rrn", "card"})


def new_secret_kinds(raw: str, masked: str) -> Counter[str]:
    """The credentials masking found, by kind: markers in ``masked`` that ``raw`` did not already
    hold (a quoted or forged marker is not a secret), personal data aside. Never the values."""
    found = Counter(_MARKERS.findall(masked)) - Counter(_MARKERS.findall(raw))
    for kind in PERSONAL_KINDS & found.keys():
        del found[kind]
    return found


class RedactingFilter(logging.Filter):
    """Masks a record's message, arguments and traceback before any handler formats it.

    Attach it to handlers (not loggers) so records propagated from libraries are masked too::

        handler.addFilter(RedactingFilter())
    """

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
