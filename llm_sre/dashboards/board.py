"""A dashboard as data (rows of tiles plus variables) and its one way to Grafana JSON.

Panel ids are assigned here, in order, so they are stable across builds: the webhook service may
pin an annotation to ``(dashboard UID, panel id)``, and docs/stack.md lists the key panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from llm_sre.dashboards import panels as p

Variable = cogbuilder.Builder[model.VariableModel]


@dataclass(frozen=True)
class Row:
    """A titled group of tiles; ``repeat`` names a variable to repeat the row for each of its values."""

    title: str
    tiles: Sequence[p.Tile]
    repeat: str | None = None


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    rows: Sequence[Row]
    variables: Sequence[Variable] = field(default_factory=tuple)
    links_to_others: bool = True


def build(board: Board) -> model.Dashboard:
    """Assemble ``board``: datasource variable first, stable panel ids, incident annotations on key panels."""
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags([p.ANNOTATION_TAG])
        .editable()
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(p.datasource_variable("datasource", "prometheus", p.PROMETHEUS_UID, "Prometheus"))
    )
    for variable in board.variables:
        builder = builder.with_variable(variable)
    if board.links_to_others:
        builder = builder.link(
            dash.DashboardLink("llm-sre dashboards")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags([p.ANNOTATION_TAG])
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
        )

    next_id = 1
    key_ids: list[int] = []
    for row in board.rows:
        row_builder = dash.Row(row.title).id(next_id)
        if row.repeat:
            row_builder = row_builder.repeat(row.repeat)
        builder = builder.with_row(row_builder)
        next_id += 1
        for tile in row.tiles:
            builder = builder.with_panel(tile.panel.id(next_id))
            if tile.key:
                key_ids.append(next_id)
            next_id += 1

    builder = builder.annotation(_builtin_annotation())
    builder = builder.annotation(_incident_annotation(key_ids))
    return builder.build()


def _builtin_annotation() -> dash.AnnotationQuery:
    """Grafana's own "Annotations & Alerts" query: shows annotations pinned to this dashboard's panels."""
    return (
        dash.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(p.GRAFANA)
        .enable(True)
        .hide(True)
        .built_in(1)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .target(dash.AnnotationTarget().type("dashboard").limit(100).match_any(False).tags([]))
    )


def _incident_annotation(key_ids: Sequence[int]) -> dash.AnnotationQuery:
    """Organisation-wide annotations tagged ``llm-sre`` (one per incident), drawn on the key panels only."""
    query = (
        dash.AnnotationQuery()
        .name("llm-sre incidents")
        .datasource(p.GRAFANA)
        .enable(True)
        .icon_color("red")
        .type("tags")
        .target(dash.AnnotationTarget().type("tags").tags([p.ANNOTATION_TAG]).match_any(False).limit(200))
    )
    if key_ids:
        query = query.filter(dash.AnnotationPanelFilter().exclude(False).ids(list(key_ids)))
    return query


def render(board: Board) -> str:
    """Grafana JSON, sorted and indented so a rebuild diff shows exactly what changed."""
    return JSONEncoder(sort_keys=True, indent=2).encode(build(board)) + "\n"
