"""The grounding check: keep only sentences whose citations exist and whose facts they contain.

A small local model writes fluent, confident and sometimes invented text. Every sentence of an
LLM answer must cite evidence ids (``[E2]``, ``[E1, E4]``) that exist, and every *fact* in it —
numbers, error codes, hosts, identifiers — must occur in the text of the evidence it cites.
Anything else is dropped and counted; the caller rejects the whole answer below a threshold.

    checked = ground_text("used_memory hit 1073741824 bytes [E4].", {"E4": "used_memory=1073741824"})
    checked.kept  # ["used_memory hit 1073741824 bytes [E4]."]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_IDS = r"E\d+(?:\s*[,;]\s*E\d+)*"  # "E1", "E1, E3", "E2; E4"
_CITATION = re.compile(rf"\[\s*({_IDS})\s*\]")
_LATE_CITATION = re.compile(rf"([.!?])\s*((?:\[\s*{_IDS}\s*\]\s*)+)")
_ONLY_CITATIONS = re.compile(rf"^(?:\s*\[\s*{_IDS}\s*\])+[.!?]?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)\s+|\n+")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@%'-]*[A-Za-z0-9%]|\d")

# Capitalised words that are vocabulary, not facts about this incident.
GENERIC = frozenset(
    ("API", "CPU", "GPU", "RAM", "VRAM", "HTTP", "HTTPS", "TLS", "SSL", "DNS", "TTL", "LRU", "AOF", "RDB",
     "LLM", "RAG", "SLO", "SLA", "UTC", "JSON", "URL", "TCP", "UDP", "IP", "SQL", "INFO", "CONFIG",
     "RSS", "KV", "P99", "P95", "P50", "E.G", "I.E")
)  # fmt: skip

# Hyphenated words are where invented hosts and services hide ("db-primary", "redis-master"),
# but English compounds ("out-of-memory", "re-index", "read-only", "OOM-killed") use the same
# shape. A compound is vocabulary when it is built from a function word, a prefix or an
# adjectival last part; any other hyphenated name is treated as an identifier and must be in the
# cited evidence. Erring strict costs a dropped sentence (the deterministic text stays), erring
# lenient delivers a made-up host to someone about to ssh into it.
_JOINERS = frozenset(("of", "to", "in", "on", "up", "by", "out", "per", "and", "the", "a", "or"))
_PREFIXES = frozenset(
    ("re", "pre", "post", "non", "co", "self", "multi", "sub", "anti", "auto", "de", "un", "over",
     "under", "well", "cross", "semi", "inter", "mis")
)  # fmt: skip
_SUFFIXES = frozenset(
    ("based", "related", "level", "wide", "only", "free", "side", "like", "term", "safe", "aware", "bound",
     "heavy", "driven", "specific", "limited", "killed", "time", "running", "lived", "known", "ended",
     "grained", "facing", "sensitive", "intensive", "induced")
)  # fmt: skip


def _is_vocabulary_compound(token: str) -> bool:
    parts = token.lower().split("-")
    return parts[0] in _PREFIXES or parts[-1] in _SUFFIXES or any(p in _JOINERS for p in parts)


def _is_fact(token: str) -> bool:
    """Numbers, codes and identifiers: what a hallucination gets wrong and an engineer acts on."""
    if token.upper() in GENERIC:
        return False
    if "_" in token or any(c.isdigit() for c in token):
        return True
    if token.isupper() and len(token) >= 3:  # ECONNREFUSED, CLUSTERDOWN, MISCONF
        return True
    if re.search(r"[a-z][A-Z]", token):  # ConnectionRefusedError, ResponseError
        return True
    if "-" in token and not _is_vocabulary_compound(token):  # db-primary, redis-master
        return True
    return bool(re.search(r"[A-Za-z0-9][.:/@][A-Za-z0-9]", token))  # hosts, modules, host:port


def uncited(text: str) -> str:
    """``text`` without its citations, for showing it where its evidence ids mean nothing."""
    return re.sub(r"\s+([.!?,;])", r"\1", _CITATION.sub("", text)).strip()


def facts(sentence: str) -> list[str]:
    body = _CITATION.sub(" ", _LIST_PREFIX.sub("", sentence))
    return [t for t in _TOKEN.findall(body) if _is_fact(t)]


def _contains(haystack: str, fact: str) -> bool:
    """Whole-token match; a number must not be part of a longer number, decimal or percentage."""
    if fact[0].isdigit():
        pattern = rf"(?<![A-Za-z0-9.]){re.escape(fact.lower())}(?![A-Za-z0-9%]|\.\d)"
    else:
        pattern = rf"(?<![A-Za-z0-9]){re.escape(fact.lower())}(?![A-Za-z0-9])"
    return re.search(pattern, haystack) is not None


def sentences(text: str) -> list[str]:
    """Split on sentence ends; citations written after the full stop ("… refused. [E2]") move before it."""
    text = _LATE_CITATION.sub(lambda m: f" {m.group(2).strip()}{m.group(1)} ", text.strip())
    return [
        part.strip() for part in _SENTENCE_END.split(text) if part.strip() and not _ONLY_CITATIONS.match(part)
    ]


@dataclass
class Checked:
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.kept)


# Claims no evidence can carry: while an alert fires, "it resolved itself" or "no action is needed"
# is a guess that stops the engineer, and it holds no fact for the check above to catch.
_ALL_CLEAR = re.compile(
    r"\b(?:resolved|recovered|fixed)\s+(?:itself|on its own)\b|\b(?:has|have|is|was|were|been)\s+"
    r"(?:\w+\s+)?(?:resolved|recovered|fixed)\b|\bno\s+(?:further\s+|immediate\s+)?(?:action|"
    r"intervention)s?\b|\bnothing\s+(?:to\s+do|needs)\b|\bfalse\s+(?:positive|alarm)\b|\b(?:can|should)"
    r"\s+(?:safely\s+)?be\s+ignored\b|\bsafe\s+to\s+ignore\b",
    re.I,
)
# Actions that lose data or availability: only when the cited evidence (the runbook) names them.
_DESTRUCTIVE = re.compile(
    r"\b(?:flush(?:all|db)?|delete|drop|truncate|wipe|purge|destroy|reformat|rm\s+-rf|p?kill(?:all)?"
    r"|reboot|restart|shut\s*down|failover|force)\b",
    re.I,
)


def citations(text: str) -> list[str]:
    """The evidence ids ``text`` cites, in the order it first cites them."""
    ids = (i.strip() for group in _CITATION.findall(text) for i in re.split(r"[,;]", group))
    return list(dict.fromkeys(ids))


def _cited(sentence: str) -> set[str]:
    return set(citations(sentence))


def refusal(sentence: str, evidence: Mapping[str, str]) -> str | None:
    """Why ``sentence`` must not be delivered whatever it cites: ``all-clear`` or ``destructive``."""
    if _ALL_CLEAR.search(sentence):
        return "all-clear"
    haystack = " ".join(evidence.get(i, "") for i in _cited(sentence)).lower()
    if any(m.group(0).lower() not in haystack for m in _DESTRUCTIVE.finditer(uncited(sentence))):
        return "destructive"
    return None


def supported(sentence: str, evidence: Mapping[str, str]) -> bool:
    cited = _cited(sentence)
    if not cited or not cited <= evidence.keys() or refusal(sentence, evidence):
        return False
    haystack = " ".join(evidence[i] for i in cited).lower()
    return all(_contains(haystack, f) for f in facts(sentence))


def best_citation(sentence: str, cited: str, evidence: Mapping[str, str]) -> str:
    """The id a one-citation sentence should carry: ``cited`` when its text holds the sentence's
    facts, else the shortest (most specific) evidence that holds them all, else ``cited`` (and the
    check drops the sentence).

    A small model copies the right line and names the wrong id next to it; moving the citation to
    the line that has the facts keeps the rule that every fact is in the evidence it cites."""
    found = facts(sentence)
    if not found or all(_contains(evidence.get(cited, "").lower(), f) for f in found):
        return cited
    holding = [i for i, text in evidence.items() if all(_contains(text.lower(), f) for f in found)]
    return min(holding, key=lambda i: len(evidence[i]), default=cited)


def ground_text(text: str, evidence: Mapping[str, str]) -> Checked:
    checked = Checked()
    for s in sentences(text):
        (checked.kept if supported(s, evidence) else checked.dropped).append(s)
    return checked


@dataclass
class Verdict:
    """Grounded fields of an answer plus the counts the metrics and ``Grounding`` report."""

    fields: dict[str, str | list[str]]
    kept: int
    dropped: int
    refused: list[str] = field(default_factory=list)  # sentences no citation can make deliverable

    @property
    def ratio(self) -> float:
        total = self.kept + self.dropped
        return self.kept / total if total else 0.0


def ground_answer(answer: Mapping[str, str | list[str]], evidence: Mapping[str, str]) -> Verdict:
    """Ground every text field and every list item; list items left empty disappear."""
    out: dict[str, str | list[str]] = {}
    kept = dropped = 0
    refused: list[str] = []
    for name, value in answer.items():
        items = [value] if isinstance(value, str) else value
        grounded = []
        for item in items:
            checked = ground_text(item, evidence)
            kept, dropped = kept + len(checked.kept), dropped + len(checked.dropped)
            refused += [s for s in checked.dropped if refusal(s, evidence)]
            if checked.kept:
                grounded.append(checked.text)
        out[name] = " ".join(grounded) if isinstance(value, str) else grounded
    return Verdict(out, kept, dropped, refused)
