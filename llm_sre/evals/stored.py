"""``llm-sre eval --shadow``: the shadow mode's stored trials, primary beside shadow, per incident.

Live incidents are the best eval set there is, and shadow mode already ran both configurations on
them (alert_webhooks/shadow.py); this reads what it stored instead of running anything, so the same
table, totals and ``differ`` list compare them.
"""

from __future__ import annotations

from alert_webhooks.incidents import Incident
from alert_webhooks.store import IncidentFilter, Store
from alert_webhooks.trials import Trial
from llm_sre.evals.run import Outcome

PAGE = 500


def _outcome(case: str, trial: Trial) -> Outcome:
    return Outcome(
        case,
        trial.config,
        trial.outcome,
        trial.reason,
        trial.category,
        None,
        None,
        trial.grounded_ratio,
        0,
        trial.latency_seconds,
        trial.tokens_in,
        trial.tokens_out,
    )


def _primary(incident: Incident) -> Outcome:
    """The primary's trial, or (it never ran: budget, backlog) the summary it left standing."""
    assert incident.shadow is not None and incident.analysis is not None
    if incident.shadow.primary is not None:
        return _outcome(incident.id, incident.shadow.primary)
    a = incident.analysis
    return Outcome(incident.id, "primary", "deterministic", a.grounding.fallback_reason, a.category)


def shadow_runs(store: Store, limit: int) -> tuple[list[str], list[list[Outcome]]]:
    """The newest ``limit`` incidents with a shadow trial, as (labels, [primary, shadow] outcomes)."""
    primary: list[Outcome] = []
    shadow: list[Outcome] = []
    offset = 0
    while len(shadow) < limit:
        page, total = store.incidents(IncidentFilter(), PAGE, offset)
        for incident in page:
            if incident.shadow is not None and incident.analysis is not None and len(shadow) < limit:
                primary.append(_primary(incident))
                shadow.append(_outcome(incident.id, incident.shadow.shadow))
        offset += PAGE
        if offset >= total or not page:
            break
    labels = [primary[0].config if primary else "primary", shadow[0].config if shadow else "shadow"]
    return labels, [primary, shadow]
