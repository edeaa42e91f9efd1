"""Grafana dashboards as code (grafana-foundation-sdk, Grafana 11).

``llm-sre dashboards build`` renders every board in :data:`BOARDS` into ``dashboards/<uid>.json``;
the JSON is committed and a test fails when it differs from a fresh build.
"""

from __future__ import annotations

from collections.abc import Callable

from llm_sre.dashboards import containers, incidents, llm, model_server, rag, slos
from llm_sre.dashboards.board import Board

# Board factories in the order the docs list them.
BOARDS: tuple[Callable[[], Board], ...] = (
    llm.board,
    rag.board,
    model_server.board,
    containers.board,
    slos.board,
    incidents.board,
)
