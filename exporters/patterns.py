"""Log template mining: drain3's Drain tree behind our own masking of variable parts.

Drain groups lines by their constant tokens, so its accuracy depends on masking the variable
ones first (REFERENCE §7). drain3's own masker runs one regex per instruction over every line;
here one combined regex does it in a single pass and knows the shapes this stack logs:
exception messages (free text of any length, after the exception class), timestamps in eight
formats (each collapsed to one token so token counts stay stable), UUIDs,
URLs, IPs with ports, multi-segment paths, hex ids, quoted strings, and numbers with units
(``812ms``, ``1.23s``, ``8123456kB``). Secrets are masked too (:func:`exporters.redact.redact`),
so templates - which end up in tooling output and the state file - never hold one.

    >>> miner = PatternMiner()
    >>> miner.add("retrieval took 812ms for 5 docs").template
    'retrieval took <NUM> for <NUM> docs'

Pattern ids (``p<n>``) are drain cluster ids: stable for the life of the state file, which
:meth:`PatternMiner.save` writes atomically in drain3's own snapshot format.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import jsonpickle
from drain3.drain import Drain

from exporters.redact import redact

_TIMESTAMPS = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",  # ISO 8601 / Python
    r"\d{4}/\d{2}/\d{2}(?: - | )\d{2}:\d{2}:\d{2}(?:\.\d+)?",  # GIN, Go log
    r"\[?\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]?",  # nginx / Apache access
    r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?",  # Redis
    r"[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?: \d{4})?",  # ctime
    r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}",  # syslog
    r"\d{2}:\d{2}:\d{2}(?:[.,]\d+)?",  # bare time
    r"\d{4}-\d{2}-\d{2}",  # bare date
    r"\[\s*\d+\.\d+\]",  # kernel uptime, padded to varying widths
)
# Alternatives are tried left to right at each position, so specific shapes come first.
_MASKS = (
    # An exception's free-text message has any number of words, and Drain only groups lines of
    # equal length: keep the exception class (bounded, telling) and mask the rest of the line.
    ("MSG", r"\b(?P<exc>[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Refused|Exit)): .*"),
    ("TS", "|".join(_TIMESTAMPS)),
    ("UUID", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("URL", r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+"),
    ("IP", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"
           r"|\[[0-9a-fA-F]*:[0-9a-fA-F:]+\](?::\d{1,5})?"),
    ("PATH", r"(?<![\w.])(?:/[\w.@%+~:-]+){2,}/?"),
    ("STR", r"\"(?:[^\"\\]|\\.)*\"|(?<![\w'])'[^'\n]*'(?![\w'])"),
    ("HEX", r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b"),
    ("ID", r"\b[A-Za-z]+_-?\d{4,}\b"),  # blk_-1608999687919862906, job_201711
    # An access log's status and reason phrase (uvicorn: '"GET / HTTP/1.1" 404 Not Found').
    ("STATUS", r"(?<=\" )[1-5]\d\d(?: [A-Z][a-zA-Z-]+)*(?=$|\s)"),
    ("NUM", r"(?<![\w.])[-+]?\d+(?:\.\d+)*(?:[eE][-+]?\d+)?(?:[a-zA-Zµ%]{1,3})?(?![\w])"),
)
# Every alternative starts with a digit, one of ``["'/[+-]`` or a letter at a word start; saying
# so up front lets the engine skip the inside of words without trying ten branches per
# character (1.8x faster on the mixed corpus).
_MASK = re.compile(
    r"(?=[\d\[\"'/+-]|\b[A-Za-z])(?:" + "|".join(f"(?P<{name}>{rx})" for name, rx in _MASKS) + ")"
)
_TOKEN = {name: f"<{name}>" for name, _ in _MASKS}


def _token(m: re.Match[str]) -> str:
    kind = m.lastgroup or "NUM"
    return f"{m.group('exc')}: <MSG>" if kind == "MSG" else _TOKEN[kind]


def mask(message: str) -> str:
    """Replace variable parts of a message with ``<TS>``, ``<IP>``, ``<NUM>`` … tokens."""
    return _MASK.sub(_token, message)


_MASK_TOKENS = frozenset(_TOKEN.values())
_MASK_TOKEN_RE = re.compile("|".join(map(re.escape, _MASK_TOKENS)))
_ALNUM = re.compile(r"[^\W_]")


@functools.lru_cache(maxsize=65_536)
def is_parameter(token: str) -> bool:
    """A mask token, possibly wrapped in punctuation (``<IP>:``, ``(<NUM>)``, ``[<TS>]``)."""
    return token in _MASK_TOKENS or ("<" in token and not _ALNUM.search(_MASK_TOKEN_RE.sub("", token)))


# Request attributes that vary within one access-log statement, unlike state words.
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@functools.lru_cache(maxsize=65_536)
def _is_state_word(token: str) -> bool:
    """An all-caps word such as FOLLOWING/LEADING/LOOKING, FAILED/RUNNING or an UPPER_SNAKE enum
    constant (FAIL_TASK_CLEANUP): a state an enum names, so lines that differ in it are
    different events, however much else they share (loghub labels them as separate templates)."""
    word = token.replace("_", "")
    return len(word) >= 3 and word.isalpha() and word.isupper() and token not in _HTTP_METHODS


class TypedDrain(Drain):
    """Drain whose similarity ignores parameter positions, including our typed mask tokens.

    Stock Drain divides the matching tokens by *all* tokens and only treats ``<*>`` as a
    parameter. With variables masked first, a typed token (``<NUM>``, ``<TS>``) equal in two
    lines then counts as similar, so lines sharing only a masked header (``<TS> <NUM> INFO``)
    merge, while an access-log line that is nearly all masks (``<IP> - <STR> <STATUS>``) never
    reaches the threshold and every line becomes a new cluster. Here similarity is the share of
    the template's *constant* tokens that the line matches; a mask token wrapped in punctuation
    (``<IP>:``) is a parameter too.
    """

    def get_seq_distance(self, seq1: list[str], seq2: list[str], include_params: bool) -> tuple[float, int]:
        similar = params = 0
        for token1, token2 in zip(seq1, seq2, strict=True):
            if token1 == self.param_str or is_parameter(token1):
                params += 1
            elif token1 == token2:
                similar += 1
            elif _is_state_word(token1) or _is_state_word(token2):  # either way round
                return 0.0, params
        if include_params:  # drain3's full-search match(): keep its stock meaning
            return ((similar + params) / len(seq1) if seq1 else 1.0), params
        constants = len(seq1) - params
        return (similar / constants if constants else 1.0), params


@dataclass(frozen=True)
class Match:
    pattern_id: str
    template: str
    new: bool


class PatternMiner:
    """A Drain tree fed with masked messages, with state that survives restarts.

    ``sim_th`` 0.55: a line joins a template when it matches *more than half* of the template's
    constant tokens (drain3's default 0.4 is for its all-token similarity). Exactly half - three
    shared words of six - is as often a different message as the same one.
    ``max_clusters`` bounds memory (LRU).
    """

    def __init__(self, *, sim_th: float = 0.55, depth: int = 4, max_children: int = 100,
                 max_clusters: int = 5_000, state_path: Path | None = None, secrets: bool = True) -> None:
        # "," splits kernel lines like "oom-kill:constraint=…,task=ollama,pid=42" into tokens.
        self.drain = TypedDrain(sim_th=sim_th, depth=depth, max_children=max_children,
                                max_clusters=max_clusters, extra_delimiters=(",",))
        self.state_path = state_path
        self._secrets = secrets
        if state_path is not None and state_path.exists():
            self._load(state_path)

    def add(self, message: str) -> Match:
        """Mine one message (not a raw line: see :func:`exporters.logline.parse_line`)."""
        # Masking first removes most secret shapes (URLs with credentials, card digits) and
        # shortens the line, so the masker that catches the rest has less to scan.
        text = mask(message)
        if self._secrets:
            text = redact(text)
        cluster, change = self.drain.add_log_message(text)
        return Match(f"p{cluster.cluster_id}", cluster.get_template(), change == "cluster_created")

    def templates(self) -> dict[str, str]:
        return {f"p{c.cluster_id}": c.get_template() for c in self.drain.clusters}

    def save(self) -> None:
        """Write the tree to ``state_path`` atomically (write a temp file, then rename)."""
        if self.state_path is None:
            return
        state = base64.b64encode(zlib.compress(jsonpickle.dumps(self.drain, keys=True).encode()))
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.write_bytes(state)
        os.replace(tmp, self.state_path)

    def _load(self, path: Path) -> None:
        loaded: Drain = jsonpickle.loads(zlib.decompress(base64.b64decode(path.read_bytes())), keys=True)
        self.drain.id_to_cluster = loaded.id_to_cluster
        self.drain.clusters_counter = loaded.clusters_counter
        self.drain.root_node = loaded.root_node
