"""The masker's rules: one per kind of secret, with the hints that say when to try it.

Order matters: specific kinds (JWT, provider tokens) come before the generic key=value rule, so
``access_token=eyJ…`` is reported as ``jwt``. Every rule only replaces its ``secret`` group, so
keys, schemes and quotes around a secret survive. :mod:`exporters.redact` applies them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from exporters.checksums import number_kind

MARKER = "[REDACTED:{}]"


def marker(kind: str) -> str:
    return MARKER.format(kind)


@dataclass(frozen=True)
class Rule:
    """One kind of secret: where to look (``hints``), what it looks like, and what to replace.

    ``pattern`` must have a group named ``secret``; only that span is replaced, so keys, schemes
    and quotes around it survive. ``accept`` vetoes a match (checksums, placeholders); ``kind``
    may be a function of the match when one regex covers several kinds.

    ``guard`` is a cheaper necessary condition for ``pattern`` to match at all (a literal the
    pattern requires, a minimum length or digit count): when it is false the regex cannot match,
    so skipping it changes nothing. It must never depend on ``accept``; the tests check that
    ``apply`` (no guard) and ``apply_guarded`` agree on the corpus and on generated text.
    """

    kind: str | Callable[[re.Match[str]], str]
    pattern: re.Pattern[str]
    hints: tuple[str, ...] = ()
    accept: Callable[[re.Match[str]], bool] | None = None
    guard: Callable[[str], bool] | None = None

    def apply(self, text: str) -> str:
        return self.pattern.sub(self._replace, text)

    def apply_guarded(self, text: str) -> str:
        """:meth:`apply`, skipped when the guard proves the pattern cannot match."""
        if self.guard is not None and not self.guard(text):
            return text
        return self.pattern.sub(self._replace, text)

    def _replace(self, m: re.Match[str]) -> str:
        if self.accept is not None and not self.accept(m):
            return m.group(0)
        kind = self.kind if isinstance(self.kind, str) else self.kind(m)
        start, end = m.span("secret")
        whole = m.group(0)
        base = m.start()
        return whole[: start - base] + marker(kind) + whole[end - base :]


# --- validators ---------------------------------------------------------------------------------

_PLACEHOLDER_VALUES = frozenset({"null", "none", "true", "false", "nil", "undefined", "redacted"})


def _placeholder(value: str) -> bool:
    """A stand-in, not a secret: ``null``, ``***``, ``${TOKEN}``, ``<redacted>``, our own marker."""
    return (
        value.lower() in _PLACEHOLDER_VALUES
        or value.strip("*x•") == ""
        or value.startswith(("${", "$(", "{{", "%(", "[REDACTED"))
        or (value.startswith("<") and value.endswith(">"))
    )


def _real_value(m: re.Match[str]) -> bool:
    """Skip values that are placeholders, already masked, or template references."""
    return not _placeholder(m.group("secret"))


def _token_value(m: re.Match[str]) -> bool:
    """``*_token`` keys also name counters (``prompt_token=57``): require a non-numeric value."""
    value = m.group("secret")
    return _real_value(m) and len(value) >= 6 and not value.isdigit()


def _pwd_value(m: re.Match[str]) -> bool:
    """``PWD=/srv/app`` in an environment dump is the working directory, not a password."""
    return _real_value(m) and not m.group("secret").startswith(("/", "~"))


def _aws_secret(m: re.Match[str]) -> bool:
    """In text that mentions AWS, a 40-char run mixing cases and digits (a git SHA is lower hex)."""
    value = m.group("secret")
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value) and any(
        c.isdigit() for c in value
    )
    return mixed and "aws" in m.string.lower()


_FLAG_KINDS = (("pass", "password"), ("secret", "secret"), ("token", "token"))


def _flag_kind(m: re.Match[str]) -> str:
    flag = m.group("flag").lower()
    return next((kind for word, kind in _FLAG_KINDS if word in flag), "api_key")


def _flag_value(m: re.Match[str]) -> bool:
    """``--max-token 4096`` style counts are not secrets; anything else after a secret flag is."""
    return _token_value(m) if _flag_kind(m) == "token" else _real_value(m)


def _looks_random(m: re.Match[str]) -> bool:
    """A bearer credential has digits or mixed case; "bearer authentication" prose has neither."""
    value = m.group("secret")
    return any(c.isdigit() for c in value) or (len(value) >= 20 and not value.islower())


def _authorization(m: re.Match[str]) -> bool:
    """With a scheme the value is a credential; without one, "authorization: denied" is prose.
    A placeholder (``Bearer <redacted>``, ``Bearer ${TOKEN}``) stays as written."""
    if _placeholder(m.group("secret")):
        return False
    return m.group("scheme") is not None or _looks_random(m)


def _email(m: re.Match[str]) -> bool:
    """``git@github.com:org/repo`` is an SSH remote (user ``git``), not somebody's address."""
    return not m.group("secret").lower().startswith("git@")


def _basic_credentials(m: re.Match[str]) -> bool:
    """``Basic`` is a common word; only mask when the value decodes to ``user:password``."""
    value = m.group("secret")
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()


# --- guards (necessary conditions, see Rule.guard) -----------------------------------------------

def _has_separator(text: str) -> bool:
    return "=" in text or ":" in text or "%3" in text


def _has_at(text: str) -> bool:
    return "@" in text


def _has_colon(text: str) -> bool:
    return ":" in text


def _has_equals(text: str) -> bool:
    return "=" in text


def _long_enough_for_aws_secret(text: str) -> bool:
    return len(text) >= 40


_ASCII_DIGITS = b"0123456789"


def _enough_digits(text: str) -> bool:
    """The number pattern needs 10 digits (a ``+82`` mobile has 11): most short strings have fewer.

    Counting by deleting digits from the bytes is ~0.2 µs, a tenth of running the number regex on
    a summary line. ``\\d`` also matches non-ASCII digits (Arabic-Indic, full-width), which the byte
    count would miss, so non-ASCII text always runs the regex.
    """
    if len(text) < 10:
        return False
    if not text.isascii():
        return True
    return len(text) - len(text.encode("ascii").translate(None, _ASCII_DIGITS)) >= 10


_GROUPS = re.compile(r"\d+|[ .-]")


class _NumberRule(Rule):
    """Digit runs get one regex and a classifier instead of three overlapping regexes.

    The regex takes the longest run, so a secret right after another digit group
    (``retry 3 4111111111111111``, ``call 1 010-1234-5678``) arrives with it; when the whole run is
    no secret, its sub-runs of whole groups are tried, longest first, and only the secret is masked.
    """

    def _replace(self, m: re.Match[str]) -> str:
        whole = m.group(0)
        kind = number_kind(whole)
        if kind is not None:
            return marker(kind)
        parts = _GROUPS.findall(whole)
        out, i = [], 0
        while i < len(parts):
            found = next(
                (
                    (j, kind)
                    for j in range(len(parts), i, -1)
                    if parts[i][0].isdigit() and parts[j - 1][0].isdigit()
                    for kind in [number_kind("".join(parts[i:j]))]
                    if kind is not None
                ),
                None,
            )
            if found is None:
                out.append(parts[i])
                i += 1
            else:
                out.append(marker(found[1]))
                i = found[0]
        return "".join(out)


# --- rules --------------------------------------------------------------------------------------

# Where a prefixed token may start: a word boundary, or right after a percent-encoded separator
# (``token%3Dghp_…`` in a URL-encoded query has no boundary between ``D`` and ``g``).
_B = r"(?:(?<=%[23][0-9A-Fa-f])|\b)"

def trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many literal words, factored as a prefix tree.

    ``re`` tries alternatives one by one at every position; a tree fails a whole branch on its
    first character, which makes the hint scan 2.4x faster than ``a|b|c``. Longest match wins,
    like a longest-first alternation. (The ``trieregex`` package does the same; 15 lines here.)
    """
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and "" not in node else "(?:" + "|".join(branches) + ")"
        return body + ("?" if "" in node else "")

    return build(tree)


def _spellings(name: str) -> list[str]:
    """``"api key"`` → apikey, api_key, api-key: the ways one key name is written in the wild."""
    out = [""]
    for i, word in enumerate(name.split()):
        out = [o + sep + word for o in out for sep in (("",) if i == 0 else ("", "_", "-"))]
    return out


# Key names whose value is a secret in k=v, k: v, JSON, Python-repr and header forms. Only the
# tail of a key is matched (``db_password``, ``X-Api-Key``, ``clientSecret`` end in one of these)
# and it must touch the separator, so ``password reset``, ``max_tokens=``, ``token_type=`` and
# ``secret_name=`` are left alone. ``sig``/``signature``: Azure SAS and signed-URL signatures.
_KEY_NAMES: tuple[tuple[str, Callable[[re.Match[str]], bool], tuple[str, ...]], ...] = (
    ("password", _real_value, ("password", "passwd", "passphrase")),
    ("password", _pwd_value, ("pwd",)),
    ("secret", _real_value, ("secret", "secret key", "secret access key", "credential", "credentials",
                             "signature", "sig")),
    ("api_key", _real_value, ("api key", "access key", "private key", "auth key", "account key",
                              "shared access key", "client key", "signing key", "encryption key",
                              "master key")),
    ("token", _token_value, ("token",)),
)
KEY_KINDS: dict[str, tuple[str, Callable[[re.Match[str]], bool]]] = {
    spelling: (kind, accept)
    for kind, accept, names in _KEY_NAMES
    for name in names
    for spelling in _spellings(name)
}
KEY_TRIE = trie_pattern(KEY_KINDS)
_KV = re.compile(
    r"(?i)(?P<key>" + KEY_TRIE + r")"
    r"(?![\w-])(?P<sep>\\?[\"']?\s*(?:[:=]|%3[AaDd])\s*(?P<q>\\?[\"'])?)"
    r"(?P<secret>(?(q)(?:[^\"'\\]|\\[^\"'])+|[^\s\"'&;,\\\[{(<][^\s\"'&;,\\]*))"
)


def key_entry(name: str) -> tuple[str, Callable[[re.Match[str]], bool]]:
    """The :data:`KEY_KINDS` entry of a key name the case-insensitive trie matched.

    ``re``'s IGNORECASE also folds ``ſ``→s, ``ı``/``İ``→i and the Kelvin sign→k, which
    ``str.lower`` does not, so ``paſſword=x`` matched but its lookup raised KeyError (a crafted
    alert label could fail intake). Those rare names are looked up by pattern instead.
    """
    entry = KEY_KINDS.get(name.lower())
    if entry is None:
        entry = next(v for k, v in KEY_KINDS.items() if re.fullmatch(re.escape(k), name, re.IGNORECASE))
    return entry


def _kv_kind(m: re.Match[str]) -> str:
    return key_entry(m.group("key"))[0]


def _kv_accept(m: re.Match[str]) -> bool:
    return key_entry(m.group("key"))[1](m)


# Cookie pairs; the name is checked afterwards (a pattern with the keywords inside the name
# backtracks quadratically on long runs of word characters).
_COOKIE_PAIR = re.compile(r"(?<![\w.-])(?P<name>[\w.-]{1,64})=(?P<secret>[^;\s\"',]{6,})")
_SESSION_NAME = re.compile(r"(?i)sess|sid|auth|token|jwt|remember|csrf")


def _session_cookie(m: re.Match[str]) -> bool:
    """In a cookie header, the cookies whose names say they carry a session; ``theme=dark`` stays."""
    return _SESSION_NAME.search(m.group("name")) is not None and "cookie" in m.string.lower()

RULES: tuple[Rule, ...] = (
    Rule(
        "private_key",
        re.compile(
            r"(?s)(?P<secret>-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?"
            r"(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z))"
        ),
        ("-----begin",),
    ),
    Rule("jwt", re.compile(r"(?P<secret>" + _B + r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*)"), ("eyj",)),
    Rule(
        "slack_webhook",
        re.compile(r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/-]+)"),
        ("hooks.slack.com",),
    ),
    Rule(
        "slack_token",
        re.compile(r"(?P<secret>" + _B + r"xox[abposrce]-[\w-]{10,}|" + _B + r"xapp-[\w-]{20,})"),
        ("xox", "xapp-"),
    ),
    Rule(
        "aws_access_key",
        re.compile(r"(?P<secret>" + _B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|APKA)[A-Z0-9]{16}\b)"),
        ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "anpa", "apka"),
    ),
    # A secret access key has no prefix of its own; in a line that mentions AWS, a 40-character
    # base64 run of mixed case and digits is one (``aws configure set … KEY``, env dumps).
    Rule(
        "aws_secret_key",
        re.compile(r"(?<![A-Za-z0-9/+])(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
        ("aws",),
        _aws_secret,
        _long_enough_for_aws_secret,
    ),
    Rule(
        "github_token",
        re.compile(r"(?P<secret>" + _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}))"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Rule("anthropic_key", re.compile(r"(?P<secret>" + _B + r"sk-ant-[\w-]{20,})"), ("sk-ant-",)),
    Rule(
        "openai_key", re.compile(r"(?P<secret>" + _B + r"sk-(?:proj-|svcacct-|admin-)?[\w-]{20,})"), ("sk-",)
    ),
    Rule(
        "stripe_key",
        re.compile(r"(?P<secret>" + _B + r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,}))"),
        ("k_live_", "k_test_", "whsec_"),
    ),
    Rule("google_api_key", re.compile(r"(?P<secret>" + _B + r"AIza[\w-]{35})"), ("aiza",)),
    Rule("hf_token", re.compile(r"(?P<secret>" + _B + r"hf_[A-Za-z0-9]{30,})"), ("hf_",)),
    Rule("gitlab_token", re.compile(r"(?P<secret>" + _B + r"gl(?:pat|dt|rt|cbt|ptt)-[\w-]{20,})"),
         ("glpat-", "gldt-", "glrt-", "glcbt-", "glptt-")),
    Rule("npm_token", re.compile(r"(?P<secret>" + _B + r"npm_[A-Za-z0-9]{36})"), ("npm_",)),
    Rule("sendgrid_key", re.compile(r"(?P<secret>" + _B + r"SG\.[\w-]{22}\.[\w-]{43})"), ("sg.",)),
    Rule("grafana_token", re.compile(r"(?P<secret>" + _B + r"(?:glsa|glc)_[\w+/=]{30,})"), ("glsa_", "glc_")),
    Rule(
        lambda m: m.group("scheme").lower() if m.group("scheme") else "authorization",
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?"
            r"(?:(?P<scheme>bearer|basic|token|digest|apikey|negotiate)\s+)?(?P<secret>[^\s\"'\\,;\[]{6,})"
        ),
        ("authorization",),
        _authorization,
        _has_separator,
    ),
    Rule(
        "bearer",
        re.compile(r"(?i)\bbearer\s+(?P<secret>[\w.~+/-]{8,}=*)"),
        ("bearer",),
        _looks_random,
    ),
    Rule(
        "basic",
        re.compile(r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])"),
        ("basic",),
        _basic_credentials,
    ),
    # Command lines: ``--password hunter2``, ``--hf-token hf_…``, ``--api-key …`` (space form;
    # the ``=`` form is the key-value rule's).
    Rule(
        _flag_kind,
        re.compile(
            r"(?i)(?<!\S)--?(?P<flag>(?:\w+[-_])*?(?:password|passwd|pass|secret|token|api[-_]?key))"
            r"\s+(?P<secret>[^\s\"'-][^\s\"']*)"
        ),
        ("-password", "-passwd", "-pass", "-secret", "-token", "-api-key", "-api_key", "-apikey"),
        _flag_value,
    ),
    Rule(
        "password",
        re.compile(r"(?:^|\s)(?:-u|--user)[\s=]+([\"']?)[^\s:\"']*:(?P<secret>[^\s\"']+)\1"),
        ("-u", "--user"),
        guard=_has_colon,
    ),
    Rule(
        "url_password",
        # The password may hold ``#`` or ``?`` unencoded (``redis://:Zq8#rT…@redis-0``): it runs to
        # the ``@``, which a path, query or fragment before the host cannot contain.
        re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@\"']*:(?P<secret>[^\s/@\"'\[]+)@"),
        ("://",),
        guard=_has_at,  # every URL wakes this rule; only userinfo (``user:pass@``) can match
    ),
    Rule("session_cookie", _COOKIE_PAIR, ("cookie",), _session_cookie, _has_equals),
    # Every spelling of every key name is a hint: "cache_key=" lines do not wake this rule.
    Rule(_kv_kind, _KV, tuple(KEY_KINDS), _kv_accept, _has_separator),
    # Not after "/": ``https://user@proxy`` is URL userinfo without a password.
    Rule(
        "email",
        re.compile(r"(?<![/\w.%+-])(?P<secret>[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"),
        ("@",),
        _email,
    ),
    _NumberRule(
        "number",
        re.compile(
            r"(?<![\w.+-])(?P<secret>\+82[ -]?1[016789][ -]?\d{3,4}[ -]?\d{4}|\d(?:[ .-]?\d){9,18})"
            r"(?![\w-]|\.\d)"
        ),
        guard=_enough_digits,  # the only rule without hints: it would run on every string
    ),
)
