"""Mask the variable parts of a log message, token by token, before templates are mined.

A miner groups lines by their constant tokens, so everything that varies between two lines of
one logging statement has to become a typed mask token first (``<NUM>``, ``<IP>`` …):

* Each whitespace token goes through one regex of shapes - UUIDs, URLs, timestamps, IPv4/IPv6
  with ports, ``host.domain:port``, Unix and Windows paths, hex, dotted names (``org.x.Y``),
  numbers with units, words mixing letters and digits (``core.1234``, ``blk_-42``,
  ``R02-M1-N0``: ids of nodes, blocks and jobs), single-token quoted values. Results are cached
  per token (constant words repeat on every line) and per *shape* (digits read as 0, so the
  ids of one shape pay for one regex run).
* A pass over the tokens joins what spans spaces into one token, so token counts stay stable:
  a unit after its number (``1.16 KB``, ``5 sec``), month and day names and numbers before a
  time (``Dec 10 06:55:46``), the name after ``user``; runs of one repeated mask collapse.
* Four guarded regexes see the whole message first: kernel uptimes, an exception's free-text
  message (the class is kept), an access log's status with its reason phrase and quoted
  ``key="…"`` values.

Why by hand: no maintained library masks log variables (drain3's masker runs one regex per
rule over every line and knows no shapes), and the shapes here are what the loghub benchmark
and this stack's own logs print.

    >>> mask("conn from 10.0.3.4:5432 at 2026-11-26T23:01:05.123Z took 812ms")
    'conn from <IP> at <TS> took <NUM>'
"""

from __future__ import annotations

import functools
import re

_UNITS = r"(?:[KMGTP]i?B|[kmgt]b|bytes?|B|ms|us|µs|ns|secs?|seconds?|s|mins?|minutes?|h|hours?|%)"
# A unit written after its number ("1.16 KB)", "5 sec"): folded into the number's mask.
_UNIT_WORD = re.compile(rf"{_UNITS}[)\],;:.]*")
# Month and weekday names next to a time belong to the timestamp (syslog, ctime, Redis).
_CALENDAR = frozenset((
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
))
_TIME_PARTS = _CALENDAR | {"<NUM>", "<TS>"}
# Words that follow "user" without naming one ("Invalid user  from …" has an empty name).
_NOT_NAMES = frozenset((
    "from", "by", "for", "to", "on", "in", "at", "with", "of", "is", "was", "not", "unknown", "name", "id",
))
# An exception's free-text message has any number of words: keep the class, mask the rest.
_EXC_HINT = re.compile(r"(?:Error|Exception|Timeout|Refused): ")
_EXC = re.compile(r"\b([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Refused)): .+")
_STATUS = re.compile(r"(?<=\" )\d{3}(?: [A-Z][a-zA-Z-]+)*(?=$|\s)")
_UPTIME = re.compile(r"\[\s*\d+\.\d+\]")  # kernel uptime, padded to varying widths
_KEY_STR = re.compile(r"(?<==)(?:\"(?:[^\"\\]|\\.)*\"|'[^'\n]*')")  # key="any words"

# One whitespace token: alternatives in order, specific shapes first.
_PARTS = (
    ("UUID", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("URL", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+"),
    ("TS", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
           r"|\d{4}-\d{2}-\d{2}_\d{2}[,.]\d{2}[,.]\d{2}(?:[.,]\d+)?"  # in file names: no colons
           r"|\d{1,2}:\d{2}:\d{2}(?:[.,:]\d+)*|(?<![\w.])\d{4}[-/]\d{1,2}[-/]\d{1,2}(?![\w.])"
           r"|\[?\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}"),
    ("IP", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"
           r"|(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"
           r"|\[[0-9a-fA-F]*:[0-9a-fA-F:]+\](?::\d{1,5})?"),
    ("HOST", r"(?<![\w.-])(?:[\w-]+\.)+[A-Za-z][\w-]*:\d{1,5}(?![\w.])"),
    ("PATH", r"(?<![\w.])(?:/[\w.@%+~:-]+){2,}/?|\b[A-Za-z]:\\[^\s\"'<>]*"
             r"|[\w.{}-]+(?:/[\w.@%+~:{}-]+){2,}/?|(?:\\[^\s\\\"'<>]*){2,}"),
    ("STR", r"^\"[^\"]*\"$|^'[^']*'$"),
    ("HEX", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
            r"|\b[a-f]{8,}\b"),
    # Dotted names of three parts or more: packages, classes, host names.
    ("NAME", r"(?<![\w.-])(?:[A-Za-z_][\w-]*\.){2,}[A-Za-z_][\w$-]*"),
    ("NUM", rf"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?{_UNITS}?(?![\w.])"),
    # Letters and digits in one word: node, block, job and core ids, versions.
    ("ID", r"(?<![\w.])(?<!\w-)(?=[\w.-]*\d)(?=[\w.-]*[A-Za-z])\w[\w.-]*\w|(?<![\w.])(?<!\w-)\d[\w.-]*\w"),
)
# The characters a shape cannot match without (shapes not named here need none). A token is
# matched only against the shapes it could hold: Python's regex engine tries every alternative
# at every position, and on a 150-character path the URL shape alone costs ~100 µs.
_FEATURES = (":", ".", "/", "\\", "-", '"', "'")
_NEEDS = {  # shape: (features of which it needs all) or (…)
    "UUID": ("-",), "URL": (":/",), "TS": (":", "-", "/"), "IP": (".", ":"), "HOST": (".:",),
    "PATH": ("/", "\\"), "STR": ('"', "'"), "NAME": (".",),
}


@functools.lru_cache(maxsize=128)
def _shapes_regex(features: tuple[bool, ...]) -> re.Pattern[str]:
    present = {f for f, there in zip(_FEATURES, features, strict=True) if there}
    shapes = [f"(?P<{name}>{rx})" for name, rx in _PARTS
              if name not in _NEEDS or any(present.issuperset(need) for need in _NEEDS[name])]
    # Every shape starts at a word boundary or a punctuation mark: saying so up front lets the
    # engine skip the inside of words without trying each alternative there.
    return re.compile(r"(?=\b|[^\w\s])(?:" + "|".join(shapes) + ")")


def _mask_parts(token: str) -> str:
    """``token`` with every shape in it replaced by its mask: the same as one regex of all
    shapes, since a shape left out could not have matched anywhere in the token."""
    return _shapes_regex(tuple(f in token for f in _FEATURES)).sub(_part, token)


_TOKEN = {name: f"<{name}>" for name, _ in _PARTS} | {
    "MSG": "<MSG>", "USER": "<USER>", "STATUS": "<STATUS>", "VALUE": "<VALUE>"}
MASKS = frozenset(_TOKEN.values())
MASK_TOKEN = re.compile(r"<[A-Z]+>|<\*>|\[REDACTED:\w+\]")
_ALNUM = re.compile(r"[^\W_]")
# What every shape above needs in a token with no digit: a URL's "://", an IPv6's two colons
# (or "[" and one), a path's slash, a quote, two dots of a name, eight hex letters. A token
# without any of it ("ciod:", "(Resumed)", "x-y") stays as it is.
# Whole-token values whose letters differ on every line (addresses, hex ids, UUIDs, host:port),
# so no shape cache helps: recognised by one anchored regex instead of the search over all
# shapes. Each branch is exactly what that search gives for such a token.
_WHOLE_VALUE = re.compile(
    r"(?P<lead>[(\[]?)(?:(?P<HEX>0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,})"
    r"|(?P<UUID>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<HOST>(?![0-9a-fA-F]{8}-)(?:[\w-]+\.)+[A-Za-z][\w-]*:\d{1,5}))(?P<trail>[,;)\]]?)")
_MAY_MASK = re.compile(r"[\d/\\\"']|:.*:|\[.*:|[a-fA-F]{8}|\..*\.")

_DIGIT = re.compile(r"\d")
# A shape is computed per line: bytes.translate is ~10x faster than str.translate here.
_DIGIT_SHAPE = bytes.maketrans(b"123456789", b"000000000")
# "0x…" is hex and "1x5" is not, the one rule that tells digits apart: where a digit precedes
# an x, 0 keeps its own shape and the other digits read as 1.
_HEX_SHAPE = bytes.maketrans(b"23456789", b"11111111")


def shape(text: str) -> bytes:
    """``text`` with digits read as 0 (see :class:`Masker`): a cache key for masking results."""
    raw = text.encode("utf-8", "surrogatepass")
    zeroed = raw.translate(_DIGIT_SHAPE)
    # One byte is found (memchr) far faster than a two-byte string, and most lines have no x.
    if (120 in zeroed and b"0x" in zeroed) or (88 in zeroed and b"0X" in zeroed):  # 120, 88: x, X
        return raw.translate(_HEX_SHAPE)
    return zeroed


# What a token means to the pass that joins tokens: nothing, a time, a unit, the word "user".
_PLAIN, _TIME, _UNIT, _USER_WORD = range(4)  # _PLAIN is 0: false


def _part(m: re.Match[str]) -> str:
    return _TOKEN[m.lastgroup or "NUM"]


@functools.lru_cache(maxsize=65_536)
def is_parameter(token: str) -> bool:
    """A mask token, possibly wrapped in punctuation (``<IP>:``, ``(<NUM>)``, ``[<TS>]``)."""
    if token in MASKS or token == "<*>":
        return True
    return ("<" in token or "[REDACTED:" in token) and not _ALNUM.search(MASK_TOKEN.sub("", token))


class Masker:
    """Masks messages token by token, remembering what it has seen (bounded).

    Every rule here treats all digits alike (but ``0x``, see :func:`shape`), so a token or a
    whole message masks as its *shape* (digits read as 0) does unless a digit survives into the
    result. Lines of one statement that differ only in numbers share a shape: after warm-up most
    lines cost one ``bytes.translate`` and one dict lookup; the rest, one lookup per token.
    """

    def __init__(self, cache_limit: int = 100_000) -> None:
        self._lines: dict[bytes, tuple[str, ...]] = {}
        self._cache: dict[str, tuple[str, int]] = {}
        self._shapes: dict[bytes, tuple[str, int]] = {}
        self._limit = cache_limit

    def _classify(self, token: str) -> tuple[str, int]:
        if token.isdigit():
            masked, kind = "<NUM>", _PLAIN
        elif token.isalpha():  # a word: only the unit after a number and "user" mean something
            unit = len(token) <= 7 and _UNIT_WORD.fullmatch(token) is not None
            masked, kind = token, _UNIT if unit else _USER_WORD if token in ("user", "User") else _PLAIN
        elif not _MAY_MASK.search(token):  # "(Resumed)", "error," or "x-y": constant
            masked, kind = token, _UNIT if _UNIT_WORD.fullmatch(token) else _PLAIN
        elif (known := self._shapes.get(token_shape := shape(token))) is not None:
            masked, kind = known  # ids of one shape pay one regex run (see the class docstring)
        elif value := _WHOLE_VALUE.fullmatch(token):
            name = "HEX" if value["HEX"] else "UUID" if value["UUID"] else "HOST"
            masked, kind = f"{value['lead']}<{name}>{value['trail']}", _PLAIN
        else:
            shaped = token_shape.decode("utf-8", "surrogatepass")
            masked = _mask_parts(shaped)
            same_for_the_shape = not _DIGIT.search(masked)  # else a digit survived
            if not same_for_the_shape:
                masked = _mask_parts(token)
            kind = _TIME if masked.startswith("<TS>") else _UNIT if _UNIT_WORD.fullmatch(masked) else _PLAIN
            if same_for_the_shape and shaped != token:
                if len(self._shapes) >= self._limit:
                    self._shapes.clear()
                self._shapes[token_shape] = (masked, kind)
        if len(self._cache) >= self._limit:  # bounded: variable tokens would grow it forever
            self._cache.clear()
        self._cache[token] = (masked, kind)
        return masked, kind

    def masks_by_shape(self, shape: bytes) -> bool:
        """Whether every message of this :func:`shape` masks alike (one was masked already)."""
        return shape in self._lines

    def tokens(self, message: str, line_shape: bytes | None = None) -> tuple[str, ...]:
        """The message's tokens, variable parts masked; repeated parameters collapse into one
        (lists of ids and stack addresses of any length read alike). ``line_shape``: the
        message's :func:`shape`, when the caller has it already."""
        if line_shape is None:
            line_shape = shape(message)
        known = self._lines.get(line_shape)
        if known is not None:
            return known
        out = self._tokens(message)
        if not _DIGIT.search(" ".join(out)):  # else a digit survived: not the shape's answer
            if len(self._lines) >= self._limit:
                self._lines.clear()
            self._lines[line_shape] = out
        return out

    def _tokens(self, message: str) -> tuple[str, ...]:
        if message[:1] == "[":
            message = _UPTIME.sub("<TS>", message, count=1)
        if ": " in message and _EXC_HINT.search(message):
            message = _EXC.sub(r"\1: <MSG>", message, count=1)
        if '" ' in message:  # an access log's status and its reason phrase: one value
            message = _STATUS.sub("<STATUS>", message)
        if '="' in message or "='" in message:
            message = _KEY_STR.sub("<STR>", message)
        out: list[str] = []
        after_user = False
        get, classify = self._cache.get, self._classify
        for token in message.split():
            masked, kind = get(token) or classify(token)
            if after_user:
                after_user = False
                if kind == _PLAIN and masked == token and token.isidentifier() and token not in _NOT_NAMES:
                    masked = "<USER>"  # sshd, su, cron, PAM: "for user root" - a word, but a value
            if kind:  # most tokens are plain: one test
                if kind == _USER_WORD:
                    after_user = True
                elif kind == _TIME:  # "Dec 10 06:55:46", "2026-11-26 10:00:01": one token
                    while out and out[-1].lstrip("[(") in _TIME_PARTS:
                        out.pop()
                elif out and out[-1].endswith("<NUM>"):  # a unit: "(1.16 KB)" -> "(<NUM>)"
                    out[-1] += masked[len(masked.rstrip(")],;:.")) :]
                    continue
            if out and masked == out[-1] and is_parameter(masked):
                continue
            out.append(masked)
        if "/" in message or "\\" in message:
            _mask_named_values(message, out)
        return tuple(out)


_VALUE_WORD = re.compile(r"[^\W\d][\w.-]*")


def _mask_named_values(message: str, out: list[str]) -> None:
    """A word that the line repeats as the last part of one of its paths is that path's value
    (``hive: SOFTWARE, into key '…/config/SOFTWARE'``): masked, so hives, files and keys of one
    statement stay one template."""
    tails = {token.replace("\\", "/").rpartition("/")[2].strip("'\"").rstrip(".,;:)]").strip("'\"")
             for token in message.split() if "/" in token or "\\" in token}
    tails.discard("")
    for i, token in enumerate(out):
        word = token.rstrip(",;:).]")
        if word in tails and _VALUE_WORD.fullmatch(word):
            out[i] = "<VALUE>" + token[len(word) :]


_default = Masker()


def mask(message: str) -> str:
    """Replace variable parts of a message with ``<TS>``, ``<IP>``, ``<NUM>`` … tokens."""
    return " ".join(_default.tokens(message))
