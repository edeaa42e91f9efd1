"""The deterministic analyst: category, runbook and a cited summary without any model.

It is what goes out first and what stays when the LLM is slow, down or ungrounded, so it must
be good on its own: the category comes from the alert (an explicit ``category`` label wins) and
from BM25 retrieval over the runbook pack; the summary cites the most telling evidence; the
actions are the matched runbook's. Every sentence ends with its citations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alert_webhooks.analysis.case import MANUAL, TARGET_LABELS, Case
from alert_webhooks.analysis.evidence import EvidenceBook, Item, clean, withhold
from alert_webhooks.analysis.knowledge import Hit, KnowledgeBase, KnowledgeDocument, terms
from alert_webhooks.analysis.result import AnalysisResult, Category, Grounding
from alert_webhooks.analysis.sources import Finding

if TYPE_CHECKING:
    from alert_webhooks.feedback import Preferences

CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
# Labels whose values describe the problem (not where it happened) and so help retrieval.
_QUERY_LABELS = ("alertname", "category", "component", "error_type", "reason", "outcome", "result", "status")


@dataclass(frozen=True)
class Decision:
    category: str
    runbook: KnowledgeDocument | None
    alternatives: tuple[KnowledgeDocument, ...]
    confidence: float


# Words about the alerting mechanism, not the problem: an SLO burn alert on the embedding cache
# is about the cache, and "budget burn" would otherwise pull every SLO alert to one runbook.
_MECHANICS = frozenset(
    ("alert", "alerts", "firing", "budget", "burn", "burning", "burns", "slo", "sli", "objective", "window",
     "ticket", "page", "too", "fast", "high", "low", "value", "humanize", "percentage", "threshold", "printf")
)  # fmt: skip


def alert_query(case: Case) -> str:
    """The alert's own words, minus the affected target's name ("rag-api" says where, not what)
    and the alerting mechanism's words."""
    parts = [case.description]
    for alert in case.alerts:
        parts += [alert.labels.get(k, "") for k in _QUERY_LABELS]
        parts += [alert.annotations.get(k, "") for k in ("summary", "description", "message")]
    text = " ".join(p for p in parts if p and p != MANUAL)
    for alert in case.alerts:
        for key in TARGET_LABELS:
            if value := alert.labels.get(key):
                text = text.replace(value, " ")
    return " ".join(t for t in terms(text) if t not in _MECHANICS)


def _normalised(hits: Sequence[Hit]) -> dict[str, tuple[float, KnowledgeDocument]]:
    top = max((h.score for h in hits), default=0.0) or 1.0
    return {h.document.id: (h.score / top, h.document) for h in hits}


def classify(
    case: Case, findings: Sequence[Finding], kb: KnowledgeBase, prefs: Preferences | None = None
) -> Decision:
    """Pick the runbook that best explains the alert *and* the evidence, and its category.

    Two BM25 searches — the alert's own words, and the most telling evidence lines — are blended
    (alert 0.6, evidence 0.4) so a noisy log cannot outvote a precise alert name, while a vague
    alert ("ManualIncident") is decided by its logs and metrics. Each share is scaled by how
    decisive its search was (its top score's lead over the second): a generic "LLMErrorBurst"
    matches several LLM runbooks about equally, while "model not found (status code: 404)" in
    the logs points at one.
    """
    label = case.lead.labels.get("category", "")
    scope = label if label in CATEGORIES else None
    telling = sorted(
        (f for f in findings if f.weight >= 1.0 and f.source != "alert"), key=lambda f: -f.weight
    )[:6]
    alert_hits = kb.search(alert_query(case), 8, scope)
    evidence_hits = kb.search(" ".join(f.text for f in telling), 8, scope)
    by_alert, by_evidence = _normalised(alert_hits), _normalised(evidence_hits)
    shares = (0.6 * _decisiveness(alert_hits), 0.4 * _decisiveness(evidence_hits))
    blend: dict[str, tuple[float, KnowledgeDocument]] = {}
    for part, ranked in zip(shares, (by_alert, by_evidence), strict=True):
        share = part / sum(shares) if by_alert and by_evidence else 1.0
        for doc_id, (score, doc) in ranked.items():
            blend[doc_id] = (blend.get(doc_id, (0.0, doc))[0] + share * score, doc)
    if prefs is not None:  # on-call feedback on earlier incidents of this alert (alert_webhooks/feedback.py)
        blend = {
            i: (score * factor, doc)
            for i, (score, doc) in blend.items()
            if (factor := prefs.runbook_factor(i)) is not None
        }
    ordered = sorted(blend.values(), key=lambda sd: -sd[0])
    if not ordered:
        return Decision(scope or "performance", None, (), 0.2)
    best_score, best = ordered[0]
    runner_up = next((s for s, d in ordered[1:] if d.category != best.category), 0.0)
    agree = (
        bool(scope) or not (by_alert and by_evidence) or _top_category(by_alert) == _top_category(by_evidence)
    )
    confidence = 0.3 + 0.25 * agree + 0.25 * (best_score - runner_up) + 0.15 * bool(telling)
    others = tuple(d for _, d in ordered[1:4])
    return Decision(best.category, best, others, round(min(0.95, max(0.05, confidence)), 2))


def _decisiveness(hits: Sequence[Hit]) -> float:
    """0.2 (the top hit barely leads, or nothing matched) … 1.2 (one hit stands alone)."""
    if len(hits) < 2:
        return 1.2 if hits else 0.2
    return 0.2 + 1.0 - hits[1].score / hits[0].score


def _top_category(ranked: dict[str, tuple[float, KnowledgeDocument]]) -> str:
    return max(ranked.values(), key=lambda sd: sd[0])[1].category


def runbook_text(doc: KnowledgeDocument) -> str:
    return (
        f'runbook {doc.id} "{doc.title}" ({doc.category}). Symptoms: {"; ".join(doc.symptoms[:3])}. '
        f"Causes: {'; '.join(doc.root_causes[:3])}. Diagnosis: {'; '.join(doc.diagnosis_steps[:4])}. "
        f"Actions: {'; '.join(doc.solutions[:4])}. Prevention: {'; '.join(doc.prevention[:2])}."
    )


def quote(text: str, limit: int = 240) -> str:
    """Evidence inside a sentence: internal full stops become semicolons so it stays one sentence."""
    return re.sub(r"([.!?])\s+", "; ", text[:limit]).rstrip(";. ")


def cite(text: str, *ids: str | None) -> str:
    refs = [i for i in ids if i]
    body = text.strip().rstrip(".")
    return f"{body} [{', '.join(refs)}]." if refs else f"{body}."


def fill_book(
    book: EvidenceBook, findings: Sequence[Finding], decision: Decision
) -> tuple[str | None, str | None]:
    """Alerts first, then the runbook (so budgets never squeeze it out), then the rest by weight.

    Returns the ids of the lead alert and of the runbook evidence.
    """
    alerts = [f for f in findings if f.source == "alert"]
    lead = None
    for f in alerts:
        eid = book.add(f.source, f.text, f.weight)
        lead = lead or eid
    rb = (
        book.add(f"runbook:{decision.runbook.id}", runbook_text(decision.runbook), 0.0, 1600)
        if decision.runbook
        else None
    )
    words = vocabulary(decision.runbook) if decision.runbook else frozenset()
    for f in sorted((f for f in findings if f.source != "alert"), key=lambda f: -f.weight):
        if not noise(f, words):
            book.add(f.source, f.text, f.weight, count=f.count, level=f.level, headline=f.headline)
    return lead, rb


_QUIET = ("info", "debug")


def noise(finding: Finding, words: frozenset[str]) -> bool:
    """An INFO or DEBUG log line the matched runbook does not describe ("GET /healthz 200",
    "scrape ok") carries no signal: citing it costs the engineer a read and the model a token.
    A line carrying planted instructions is kept: the attempt itself is evidence."""
    quiet = finding.level in _QUIET and relevance(finding.text, words) < 0.2
    return quiet and withhold(finding.text) == finding.text


# Words every log line and runbook share; they say nothing about which runbook a line supports.
_COMMON = frozenset(
    ("the", "and", "for", "with", "from", "not", "are", "was", "its", "into", "after", "before", "when",
     "error", "errors", "warning", "info", "debug", "critical", "redis", "exceptions", "nov", "2026")
)  # fmt: skip


_LOGS = ("logs", "loki")


def vocabulary(doc: KnowledgeDocument) -> frozenset[str]:
    """What the runbook says the incident looks like: title, tags, symptoms and causes."""
    text = " ".join([doc.title, *doc.tags, *doc.symptoms, *doc.root_causes])
    return frozenset(terms(text)) - _COMMON


def relevance(text: str, words: frozenset[str]) -> float:
    """Share of a line's words the matched runbook also uses: 0 (unrelated) … 1."""
    own = set(terms(text)) - _COMMON
    return len(own & words) / len(own) if len(own) >= 3 else 0.0  # "Retry-After: 30" says too little


def most_telling(book: EvidenceBook, runbook: KnowledgeDocument | None = None) -> list[Item]:
    """The strongest finding, the strongest of another kind (one log line *and* one metric tell
    more than two near-identical log lines), and the next strongest.

    A line is telling when it is loud (its weight: level, count, how far a value is from healthy)
    or when the matched runbook describes it (up to 2): the INFO line "cache key now includes the
    model version" is what explains a cache-key incident. The larger counts, never the sum, so a
    line echoing the runbook cannot outrank the exception that crashed the process. Only log
    lines earn relevance: metric names are the runbooks' vocabulary by design, and their weight
    already says whether the value is bad.
    """
    words = vocabulary(runbook) if runbook else frozenset()
    scored = [
        (max(i.weight, 2.0 * relevance(i.evidence.text, words) * (i.evidence.source in _LOGS)), i)
        for i in book.ranked(exclude=("alert", "runbook"))
    ]
    ranked = [i for score, i in sorted(scored, key=lambda si: -si[0]) if score >= 1.0]
    if not ranked:
        return []
    other = next((i for i in ranked if i.evidence.source != ranked[0].evidence.source), None)
    first = [ranked[0], other] if other else ranked[:2]
    return first + [i for i in ranked if i not in first][:1]


def in_words(item: Item) -> str:
    """The evidence as the summary states it: a log line quoted with its count and level, a series
    in words (not its label dump), anything else as it reads."""
    e = item.evidence
    if e.level:
        return f'"{quote(e.text)}" ({e.count}x, {e.level})'
    return quote(item.headline or e.text)


def likely_causes(doc: KnowledgeDocument, telling: Sequence[Item], limit: int = 2) -> list[str]:
    """The runbook's root causes, those sharing most words with the telling evidence first (ties
    keep the runbook's order, most common cause first). Two, not one: the evidence rarely proves
    a single cause, and a confidently wrong one sends the engineer down the wrong path at 3 a.m."""
    seen = set(terms(" ".join(i.evidence.text for i in telling))) - _COMMON
    ranked = sorted(doc.root_causes, key=lambda c: -len((set(terms(c)) - _COMMON) & seen))[:limit]
    return ranked[:1] + [_lower_first(c) for c in ranked[1:]]


def _lower_first(text: str) -> str:
    """ "A key prefix…" continues a sentence as "a key prefix…"; "O(N) commands", "KEYS" stay."""
    first = text.split(" ", 1)[0]
    return (
        text[0].lower() + text[1:]
        if first[:1].isupper() and (first[1:].islower() or len(first) == 1)
        else text
    )


def analyse(
    incident_id: str,
    case: Case,
    findings: Sequence[Finding],
    kb: KnowledgeBase,
    prefs: Preferences | None = None,
) -> AnalysisResult:
    """The complete deterministic result; every sentence cites evidence in ``result.evidence``."""
    decision = classify(case, findings, kb, prefs)
    book = EvidenceBook()
    lead_id, rb_id = fill_book(book, findings, decision)
    lead, rb = case.lead, decision.runbook
    where = "=".join(case.target() or ("target", "unknown"))
    count = f" ({len(case.alerts)} alerts)" if len(case.alerts) > 1 else ""
    summary = [
        cite(f"{lead.name} is {lead.status} for {where} since {lead.starts_at:%H:%M:%S} UTC{count}", lead_id)
    ]
    if headline := lead.annotations.get("summary"):
        summary.append(cite(headline, lead_id))
    telling = most_telling(book, rb)
    # The headline is never an INFO line: a quiet line can explain (it stays supporting evidence)
    # but must not be what the engineer reads first while something else is failing.
    loud = next((i for i in telling if i.evidence.level not in _QUIET), None)
    if loud:
        summary.append(cite(f"Most telling evidence: {in_words(loud)}", loud.evidence.id))
    root = []
    if rb:
        summary.append(cite(f'Category {decision.category}: this matches the runbook "{rb.title}"', rb_id))
        root.append(
            cite(
                f"Likely cause per runbook {rb.id}: {'; or '.join(likely_causes(rb, telling))}"
                if rb.root_causes
                else rb.title,
                rb_id,
            )
        )
    root += [cite(f"Supporting evidence: {in_words(i)}", i.evidence.id) for i in telling]
    references = [f"runbook:{rb.id}"] if rb else []
    references += [clean(u, 300) for a in case.alerts if (u := a.annotations.get("runbook_url"))][:3]
    references += [clean(a.generator_url, 300) for a in case.alerts if a.generator_url][:3]
    return AnalysisResult(
        incident_id=incident_id,
        severity=case.severity,
        category=decision.category,  # type: ignore[arg-type]
        summary=" ".join(summary),
        root_cause_analysis=" ".join(root) or cite(lead.annotations.get("description", lead.name), lead_id),
        immediate_actions=[cite(s, rb_id) for s in rb.solutions[:4]] if rb else [],
        detailed_steps=[cite(s, rb_id) for s in rb.diagnosis_steps[:4]] if rb else [],
        related_cases=[f"{d.id}: {d.title}" for d in decision.alternatives],
        prevention_tips=[cite(s, rb_id) for s in rb.prevention[:2]] if rb else [],
        confidence_score=decision.confidence,
        references=list(dict.fromkeys(references)),
        evidence=book.items,
        grounding=Grounding(grounded_ratio=1.0, dropped_sentences=0, backend="deterministic"),
    )
