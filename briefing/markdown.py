"""The briefing as Markdown: the text of ``--json``, the Slack post, the Grafana annotation and the
context report. Each item line shows the value its evidence holds; the evidence (query and time
range) follows in the JSON and in the report's appendix.
"""

from __future__ import annotations

from datetime import UTC, datetime

from briefing.items import Briefing
from briefing.units import duration


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def item_lines(b: Briefing) -> dict[str, list[str]]:
    """One line per item, by section: the deterministic text, and the LLM's evidence entries."""
    return {
        "Top issues": [
            f"**{i.alertname}** on {i.subject}: {i.evidence.value} (impact {i.impact})" for i in b.top_issues
        ],
        "Early warnings": [
            f"**{w.subject}** {w.metric}: {w.evidence.value}; the limit is {w.limit_text}, "
            f"expected {_when(w.eta)}" for w in b.early_warnings
        ],
        "Trends": [
            f"**{t.subject}** {t.metric} is {t.direction}: {t.evidence.value}" for t in b.trends
        ],
        "Efficiency": [f"**{a.subject}**: {a.text}" for a in b.efficiency],
    }  # fmt: skip


def deterministic_summary(b: Briefing) -> str:
    if b.quiet and not b.missing:
        return "Nothing needs attention: no incidents, unusual trends, early warnings or efficiency advice."
    if b.quiet:
        return "Nothing found in the sections that could be built (see Missing)."
    parts = [
        f"{len(b.top_issues)} top issue(s)" if b.top_issues else "",
        f"{len(b.early_warnings)} early warning(s), the nearest in "
        f"{duration(b.early_warnings[0].seconds_to_limit)}" if b.early_warnings else "",
        f"{len(b.trends)} unusual trend(s)" if b.trends else "",
        f"{len(b.efficiency)} efficiency finding(s)" if b.efficiency else "",
    ]  # fmt: skip
    return "; ".join(p for p in parts if p) + "."


def render(b: Briefing, summary: str, note: str) -> str:
    """``note`` says who wrote the summary (the model, or the deterministic text and why)."""
    out = [f"# Briefing {_when(b.start)} → {_when(b.end)}", "", summary, "", f"_{note}_"]
    if b.quiet and not b.missing:
        return "\n".join(out) + "\n"
    for title, lines in item_lines(b).items():
        if lines:
            out += ["", f"## {title}", *(f"{n}. {line}" if title == "Top issues" else f"- {line}"
                                         for n, line in enumerate(lines, 1))]  # fmt: skip
    if b.missing:
        out += ["", "## Missing", *(f"- {m.section}: {m.reason}" for m in b.missing)]
    return "\n".join(out) + "\n"


def evidence_appendix(b: Briefing) -> str:
    """Query, value and range of every item, for the context report a person or assistant reads."""
    rows = [
        f"- `{e.query}` = {e.value} ({_when(e.start)} → {_when(e.end)})"
        for e in (x.evidence for x in (*b.top_issues, *b.early_warnings, *b.trends, *b.efficiency))
    ]
    return "\n".join(["## Evidence", *rows]) + "\n" if rows else ""
