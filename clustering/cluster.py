"""Density clustering of embedded wide events, and the incident record each cluster becomes.

DBSCAN (default) or HDBSCAN from scikit-learn over cosine distance: neither needs the number of
causes up front, and both leave lone events as noise (``-1``) instead of forcing them into a group.

    labels = cluster_labels(embedding.matrix, eps=0.6, min_samples=2)
    incidents = build_incidents(events, labels)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN

from clustering.concepts import concepts
from clustering.embed import Matrix
from clustering.events import WideEvent

NOISE = -1
MAX_TRACES = 50
MAX_EXAMPLES = 5


def cluster_labels(
    matrix: Matrix,
    *,
    algorithm: Literal["dbscan", "hdbscan"] = "dbscan",
    eps: float = 0.6,
    min_samples: int = 2,
) -> list[int]:
    """One label per row; ``-1`` is noise. Fewer rows than ``min_samples`` are all noise."""
    rows = matrix.shape[0]
    if rows < min_samples:
        return [NOISE] * rows
    if algorithm == "hdbscan":
        dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
        model = HDBSCAN(
            min_cluster_size=min_samples,
            metric="cosine",
            cluster_selection_epsilon=eps / 2,
            allow_single_cluster=True,
            copy=True,
        )
        return [int(x) for x in model.fit_predict(dense)]
    return [int(x) for x in DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit_predict(matrix)]


@dataclass
class Incident:
    """The design's incident schema; field names are the JSON contract (camelCase as specified)."""

    incidentId: str
    cluster: int
    startTime: datetime | None
    endTime: datetime | None
    severity: Literal["critical", "warning", "info"]
    events: int
    services: list[str]
    routes: list[str]
    codes: list[str]
    concepts: list[str]
    templates: list[str]  # most frequent first
    examples: list[str]
    relatedTraces: list[str]
    rootCauseAnalysis: str = ""
    analysisBackend: str = "deterministic"
    lineNumbers: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        out = dict(self.__dict__)
        out["startTime"] = self.startTime.isoformat() if self.startTime else None
        out["endTime"] = self.endTime.isoformat() if self.endTime else None
        return out


def _severity(members: Sequence[WideEvent]) -> Literal["critical", "warning", "info"]:
    """Critical when any member is, or an error spreads over three services; warning otherwise."""
    if any(e.level == "critical" for e in members):
        return "critical"
    services = {e.service for e in members if e.level == "error"}
    return "critical" if len(services) >= 3 else "warning"


def deterministic_rca(inc: Incident) -> str:
    """A root-cause statement built only from the cluster's own facts."""
    causes = ", ".join(c.replace("_", " ") for c in inc.concepts) or "a shared error pattern"
    where = ", ".join(inc.services)
    text = (
        f"{inc.events} events across {len(inc.services)} service(s) ({where}) point at one cause: "
        f"{causes}. Most frequent: {inc.templates[0]}"
    )
    if len(inc.templates) > 1:
        text += f"; also {len(inc.templates) - 1} other wording(s) such as {inc.templates[1]}"
    return text + "."


def build_incidents(events: Sequence[WideEvent], labels: Sequence[int]) -> list[Incident]:
    """One incident per cluster, largest first; ids are stable for the same set of templates."""
    groups: dict[int, list[WideEvent]] = {}
    for event, label in zip(events, labels, strict=True):
        if label != NOISE:
            groups.setdefault(label, []).append(event)
    incidents = []
    for label, members in groups.items():
        templates = [t for t, _ in Counter(e.template for e in members).most_common()]
        times = [e.time for e in members if e.time is not None]
        found = Counter(c for e in members for c in concepts(e.text))
        digest = hashlib.sha256("\n".join(sorted(templates)).encode()).hexdigest()[:12]
        inc = Incident(
            incidentId=f"cl-{digest}",
            cluster=label,
            startTime=min(times) if times else None,
            endTime=max(times) if times else None,
            severity=_severity(members),
            events=len(members),
            services=sorted({e.service for e in members}),
            routes=sorted({e.route for e in members if e.route}),
            codes=sorted({e.code for e in members if e.code}),
            # concepts most members share, not ones a single line happened to mention
            concepts=[c for c, n in found.most_common() if n * 2 >= len(members)],
            templates=templates,
            examples=list(dict.fromkeys(e.message for e in members))[:MAX_EXAMPLES],
            relatedTraces=list(dict.fromkeys(e.trace_id for e in members if e.trace_id))[:MAX_TRACES],
            lineNumbers=[e.line_no for e in members],
        )
        inc.rootCauseAnalysis = deterministic_rca(inc)
        incidents.append(inc)
    return sorted(incidents, key=lambda i: -i.events)
