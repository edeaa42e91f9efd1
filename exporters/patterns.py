"""Log template mining: masked tokens, an exact-match cache, Drain-style similarity, stable ids.

What we took from whom (see docs/logs.md §3 for the measurements):

* **Drain** (He et al., ICWS 2017; drain3): lines of one statement have the same token count,
  and a line joins the most similar template of its length when enough constant tokens agree;
  differing tokens widen the template to ``<*>``. Kept, with similarity counted over the
  template's *constant* tokens only (typed masks are parameters, not evidence) and enum-like
  state words (``LEADING``/``FOLLOWING``) never widened.
* **Brain** (Yu et al., TSC 2023) groups by the longest pattern of constant words shared in
  both directions; it is an offline, whole-file method. From it: a line whose constant words are
  exactly an existing template's, in the same order, is that template even when the number of
  masked values differs (``1 bytes sent`` / ``1 bytes (1 KB) sent``; stack traces of any depth).
* **LILAC / LogBatcher** (FSE 2024 / ASE 2024) cache parsed templates so the expensive parser
  runs rarely. Here the cache maps a masked token sequence to its template id, so most lines
  are one dict lookup after masking (itself cached per token and per token shape).

Ids (``p<n>``) are never reused or renumbered: templates widen in place, the state file keeps
them across restarts, and least-recently-seen templates are evicted (counted) past
``max_templates``. Secrets never reach a template: a line that creates one goes through
:func:`exporters.redact.redact` first, and widening only ever writes ``<*>``.

    >>> miner = PatternMiner()
    >>> miner.add("retrieval took 812ms for 5 docs").template
    'retrieval took <NUM> for <NUM> docs'
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from exporters.redact import redact
from exporters.tokens import MASK_TOKEN, Masker, is_parameter, mask, shape

__all__ = ["Match", "PatternMiner", "is_parameter", "mask"]

log = logging.getLogger(__name__)

WILDCARD = "<*>"
# Kinds of malformed input, each counted in PatternMiner.stats (and exported by exporters.miner_metrics).
MALFORMED = ("bytes", "truncated", "invalid_utf8", "control", "empty")
# Malformed input: longer messages are cut (a 1 MB line is one event, not 1 MB of template).
MAX_MESSAGE_CHARS = 4_096
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@functools.lru_cache(maxsize=65_536)
def _is_state_word(token: str) -> bool:
    """An all-caps word such as FOLLOWING/LEADING, FAILED/RUNNING or an UPPER_SNAKE enum
    constant: lines that differ in it are different events, however much else they share."""
    word = token.replace("_", "")
    return len(word) >= 3 and word.isalpha() and word.isupper()


_WORD = re.compile(r"([A-Za-z]+)[.,;:]?")


@functools.lru_cache(maxsize=65_536)
def _skeleton(token: str) -> str:
    """The token with every mask read as ``<*>``: ``vis=<HEX>`` and ``vis=<NUM>`` agree."""
    return MASK_TOKEN.sub(WILDCARD, token) if "<" in token else token


@functools.lru_cache(maxsize=65_536)
def _is_word(token: str) -> bool:
    return _WORD.fullmatch(token) is not None


@functools.lru_cache(maxsize=65_536)
def _distinct(mine: str, theirs: str) -> bool:
    """Two tokens that make lines different events however much else they share: enum-like
    state words (LEADING/FOLLOWING), or plain words after a common start (Resumed/Paused,
    ``force=true``/``force=false``, Starting/Ending). Names that are values (user names,
    hosts, ids) are masked before this is asked."""
    if _is_state_word(mine) or _is_state_word(theirs):
        return True
    start = len(os.path.commonprefix((mine, theirs)))  # noqa: RUF071 - characters are meant
    while start and mine[start - 1].isalpha():  # compare whole words: Starting/Stopping
        start -= 1
    a, b = _WORD.fullmatch(mine, start), _WORD.fullmatch(theirs, start)
    return a is not None and b is not None and (_wording(a.group(1)) or _wording(b.group(1)))


_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "enabled", "disabled"})


def _wording(word: str) -> bool:
    """Part of the message's wording rather than a value in a slot: a capitalised word
    (Resumed, Starting, SPP), a verb form (-ed, -ing) or a boolean. Lower-case nouns in a slot
    are usually values (``for root from``, ``for git from``)."""
    return word[0].isupper() or word.endswith(("ed", "ing")) or word.lower() in _BOOLEANS


_VALUE_WORD = re.compile(r"[a-z][a-z0-9_-]*[)\],;:.]*")


@functools.lru_cache(maxsize=65_536)
def _value_word(token: str) -> bool:
    """A lower-case word that is not wording (see :func:`_wording`): ``ftp``, ``b)``."""
    m = _VALUE_WORD.fullmatch(token)
    return m is not None and not _wording(token.rstrip(")],;:."))


def _after_verb(tokens: list[str], i: int) -> bool:
    """The token follows a lower-case verb form (``removing ftp``, ``restarted sshd``): the
    verb's object, a value."""
    verb = tokens[i - 1] if i else ""
    return verb[:1].islower() and verb.isalpha() and verb.endswith(("ing", "ed"))


class Match(NamedTuple):
    pattern_id: str
    template: str
    new: bool


@dataclass
class _Template:
    id: int
    tokens: list[str]
    size: int = 0
    positions: list[int] = field(init=False)  # of the constant tokens
    signature: tuple[str, ...] = field(init=False)
    seen: Match = field(init=False)  # what a line of this template returns: built once

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.positions = [i for i, t in enumerate(self.tokens) if not is_parameter(t)]
        self.signature = tuple(self.tokens[i] for i in self.positions)
        self.seen = Match(f"p{self.id}", " ".join(self.tokens), False)


class PatternMiner:
    """Online template miner with state that survives restarts (see the module docstring).

    ``sim_th`` 0.7: a line of the same length joins a template when the constant tokens they
    share are at least 70% of the template's and of the line's. ``prefix`` 2: the first two
    tokens must agree where both are plain words (Drain's first tree levels). ``max_templates``
    bounds memory: the least recently seen template goes first, and :attr:`stats` counts it.
    One configuration for every log family; ``bench/loghub.py`` measures it on 16.
    """

    def __init__(self, *, sim_th: float = 0.7, prefix: int = 2, max_templates: int = 5_000,
                 max_cache: int = 100_000, state_path: Path | None = None, secrets: bool = True) -> None:
        self.sim_th = sim_th
        self.prefix = prefix
        self.max_templates = max_templates
        self.max_cache = max_cache
        self.state_path = state_path
        self._secrets = secrets
        self._templates: OrderedDict[int, _Template] = OrderedDict()  # least recently seen first
        # Drain's first tree levels: templates by token count, then by first token ("" for a
        # parameter), so a line is compared with the few templates it could join.
        self._by_length: dict[int, dict[int, _Template]] = {}
        self._by_head: dict[tuple[int, str], dict[int, _Template]] = {}
        self._by_signature: dict[tuple[str, ...], int] = {}
        self._cache: dict[tuple[str, ...], int] = {}  # masked tokens -> template id
        self._by_shape: dict[bytes, int] = {}  # message shape -> template id
        self._masker = Masker()
        self._next_id = 1
        self.stats: Counter[str] = Counter()  # MALFORMED kinds, evicted, state_unreadable
        self.mined = 0  # messages mined (a plain int: the hot path pays one increment)
        if state_path is not None and state_path.exists():
            self._load(state_path)

    # -- mining ------------------------------------------------------------------------------
    def add(self, message: str) -> Match:
        """Mine one message (not a raw line: see :mod:`exporters.logline`, :mod:`exporters.logformat`)."""
        # The hot path: a message whose shape (digits read as 0) was mined before is one
        # dict lookup. Only sanitised messages are remembered, so a hit needs no checks.
        self.mined += 1
        if type(message) is str:
            line_shape: bytes | None = shape(message)
            template = self._templates.get(self._by_shape.get(line_shape, 0))  # ids start at 1
            if template is not None:
                template.size += 1
                self._templates.move_to_end(template.id)
                return template.seen
        else:
            line_shape = None
        if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS or not message.isprintable():
            message = self._sanitise(message)
            line_shape = None
        key = self._masker.tokens(message, line_shape)
        if not key:
            self._note("empty", "empty message mined as the empty template")
        tid = self._cache.get(key)
        template = self._templates.get(tid) if tid is not None else None
        new = False
        if template is None:
            tokens = list(key)
            template = self._match(tokens)
            new = template is None
            if template is None:
                template = self._create(tokens)
            self._remember(self._cache, key, template.id)
        if key and line_shape is not None and self._masker.masks_by_shape(line_shape):  # empty: counted
            self._remember(self._by_shape, line_shape, template.id)
        template.size += 1
        if new:
            return Match(template.seen.pattern_id, template.seen.template, True)
        self._templates.move_to_end(template.id)
        return template.seen

    def _remember(self, cache: dict, key: object, tid: int) -> None:
        if len(cache) >= self.max_cache:  # bounded: a clear costs a few lookups, never a wrong id
            cache.clear()
        cache[key] = tid

    def _sanitise(self, message: str) -> str:
        if isinstance(message, bytes):  # a caller that skipped decoding
            message = message.decode("utf-8", errors="replace")
            self._note("bytes", "bytes given instead of text; decoded with replacement characters")
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS]
            self._note("truncated", f"message longer than {MAX_MESSAGE_CHARS} characters truncated")
        try:
            message.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, from decoding with errors="surrogateescape"
            message = message.encode("utf-8", errors="replace").decode("utf-8")
            self._note("invalid_utf8", "text that is not valid UTF-8; bad characters replaced")
        if _CONTROL.search(message):
            message = _CONTROL.sub(" ", message)
            self._note("control", "control characters (binary data?) replaced by spaces")
        return message

    def _note(self, kind: str, what: str) -> None:
        """Count malformed input; log the first of each kind and then every 1,000th."""
        self.stats[kind] += 1
        if self.stats[kind] % 1_000 == 1:
            log.warning("pattern miner: %s (%d so far)", what, self.stats[kind])

    def _match(self, tokens: list[str]) -> _Template | None:
        best, best_score = None, 0.0
        line_constants = sum(not is_parameter(t) for t in tokens)
        for template in self._candidates(tokens):
            score = self._similarity(template, tokens, line_constants)
            if score > best_score:
                best, best_score = template, score
        if best is not None:
            self._widen(best, tokens)
            return best
        signature = tuple(t for t in tokens if not is_parameter(t))  # Brain's idea, see above
        tid = self._by_signature.get(signature) if signature else None
        return self._templates.get(tid) if tid is not None else None

    def _candidates(self, tokens: list[str]) -> list[_Template]:
        n = len(tokens)
        if not tokens or is_parameter(tokens[0]):
            return list(self._by_length.get(n, {}).values())
        same_head = self._by_head.get((n, _skeleton(tokens[0])), {})
        return [*same_head.values(), *self._by_head.get((n, ""), {}).values()]

    def _similarity(self, template: _Template, tokens: list[str], line_constants: int) -> float:
        """Shared constant tokens over the larger of the two constant counts (0 if too few).

        The first ``prefix`` tokens must agree where both are constants, as on the first
        levels of Drain's tree. Gives up as soon as too many tokens differ to reach ``sim_th``
        (the answer is the same; a line is compared with every template of its length)."""
        positions = template.positions
        last = len(tokens) - 1
        if template.tokens[last] == WILDCARD and _after_verb(tokens, last) and _value_word(tokens[last]):
            line_constants -= 1  # the verb's object fills the slot the template already has there
        constants = max(len(positions), line_constants)
        if not constants:
            return 1.0
        # Differing tokens it can afford; one more when it is the only one and a value (below).
        allowed = len(positions) - self.sim_th * constants
        if allowed < 0 and constants - len(positions) > 0:
            return 0.0
        differ, slot = 0, True
        mine_tokens = template.tokens
        for i in positions:
            mine, theirs = mine_tokens[i], tokens[i]
            if mine == theirs or _skeleton(mine) == _skeleton(theirs):
                continue
            differ += 1
            slot = slot and differ == 1 and i == last and _after_verb(tokens, i) \
                and _value_word(mine) and _value_word(theirs)
            if (differ > allowed and not slot) or _distinct(mine, theirs) \
                    or (i < self.prefix and i < last and _is_word(mine) and _is_word(theirs)):
                return 0.0
        if differ == len(positions):
            return 0.0
        return (len(positions) - differ) / constants


    def _widen(self, template: _Template, tokens: list[str]) -> None:
        """Positions where the line differs become ``<*>``; the id stays."""
        changed = False
        for i, (mine, theirs) in enumerate(zip(template.tokens, tokens, strict=True)):
            if mine != theirs and mine != WILDCARD:
                skeleton = _skeleton(mine)
                template.tokens[i] = skeleton if skeleton == _skeleton(theirs) else WILDCARD
                changed = True
        if changed:
            self._unindex(template)
            template.refresh()
            self._index(template)

    def _create(self, tokens: list[str]) -> _Template:
        if self._secrets:  # the template is what gets stored and shown: no secret in it
            tokens = redact(" ".join(tokens)).split()
        template = _Template(self._next_id, tokens)
        self._next_id += 1
        self._index(template)
        while len(self._templates) > self.max_templates:
            self._evict(next(iter(self._templates.values())))
        return template

    def _head(self, template: _Template) -> tuple[int, str]:
        tokens = template.tokens
        head = "" if not tokens or is_parameter(tokens[0]) else _skeleton(tokens[0])
        return len(tokens), head

    def _index(self, template: _Template) -> None:
        self._templates[template.id] = template
        self._by_length.setdefault(len(template.tokens), {})[template.id] = template
        self._by_head.setdefault(self._head(template), {})[template.id] = template
        self._by_signature.setdefault(template.signature, template.id)

    def _unindex(self, template: _Template) -> None:
        del self._by_length[len(template.tokens)][template.id]
        del self._by_head[self._head(template)][template.id]
        if self._by_signature.get(template.signature) == template.id:
            del self._by_signature[template.signature]

    def _evict(self, template: _Template) -> None:
        self._unindex(template)
        del self._templates[template.id]
        self.stats["evicted"] += 1  # cache entries pointing at it are dropped when next hit

    def __len__(self) -> int:
        """Templates held (at most ``max_templates``)."""
        return len(self._templates)

    def templates(self) -> dict[str, str]:
        return {t.seen.pattern_id: t.seen.template for t in self._templates.values()}

    # -- persistence -------------------------------------------------------------------------
    def save(self) -> None:
        """Write the templates to ``state_path`` atomically (a temp file, then rename)."""
        if self.state_path is None:
            return
        state = {"version": 1, "next_id": self._next_id,
                 "templates": [[t.id, t.size, t.tokens] for t in self._templates.values()]}
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def _load(self, path: Path) -> None:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            templates = [_Template(int(tid), [str(t) for t in tokens], int(size))
                         for tid, size, tokens in state["templates"]]
            next_id = int(state["next_id"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            # An older drain3 snapshot or a damaged file: start empty rather than not at all.
            self.stats["state_unreadable"] += 1
            log.warning("pattern miner: state file %s unreadable (%s); starting with no templates", path, exc)
            return
        for template in templates:  # saved least recently seen first, so LRU order survives
            self._index(template)
        self._next_id = max([next_id, *(t.id + 1 for t in templates)])
