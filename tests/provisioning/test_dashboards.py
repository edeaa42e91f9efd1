"""The committed dashboards equal a fresh build, and each board is shaped as the issue asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_sre.cli import main
from llm_sre.dashboards import BOARDS, panels
from llm_sre.dashboards.board import render
from llm_sre.dashboards.cli import rendered, stale
from llm_sre.stack import REPO

DASHBOARDS = REPO / "dashboards"

# Template variables each board must offer (besides the Prometheus data source picker).
VARIABLES = {
    "llm-sre-llm": {"service", "provider", "model"},
    "llm-sre-rag": {"service", "cache"},
    "llm-sre-model-server": {"model", "vllm_model"},
    "llm-sre-containers": {"service"},
    "llm-sre-slos": {"service", "slo"},
    "llm-sre-incidents": {"loki", "service"},
}
# Panel types whose values need a unit to be read correctly.
NEEDS_UNIT = {"timeseries", "stat", "bargauge"}


def boards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def all_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_committed_json_equals_a_fresh_build() -> None:
    assert stale(DASHBOARDS) == [], "run `llm-sre dashboards build` and commit dashboards/"


def test_build_is_deterministic() -> None:
    assert rendered() == rendered()


def test_cli_check_reports_drift_and_build_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(rendered())
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "llm-sre-llm.json").write_text("{}")
    (tmp_path / "old-board.json").write_text("{}")
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "llm-sre-llm.json" in err and "old-board.json" in err
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "old-board.json").exists()
    assert stale(tmp_path) == []


def test_every_board_is_built_and_has_a_stable_unique_uid() -> None:
    uids = [factory().uid for factory in BOARDS]
    assert len(set(uids)) == len(uids) == 6
    assert set(boards()) == set(uids) == set(VARIABLES)
    for uid, board in boards().items():
        assert board["uid"] == uid
        assert panels.ANNOTATION_TAG in board["tags"]


@pytest.mark.parametrize("uid", sorted(VARIABLES))
def test_board_variables(uid: str) -> None:
    variables = {v["name"]: v for v in boards()[uid]["templating"]["list"]}
    assert set(variables) == {"datasource"} | VARIABLES[uid]
    assert variables["datasource"]["current"]["value"] == panels.PROMETHEUS_UID
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["includeAll"] and variable["allValue"] == panels.ALL
            assert variable["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("uid", sorted(VARIABLES))
def test_panels_have_unique_ids_units_and_refids(uid: str) -> None:
    board = boards()[uid]
    ids = [panel["id"] for panel in all_panels(board)]
    assert len(ids) == len(set(ids)) and all(i > 0 for i in ids)
    for panel in all_panels(board):
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["gridPos"]["w"] > 0
        if panel["type"] in NEEDS_UNIT:
            assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']} has no unit"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids and len(set(ref_ids)) == len(ref_ids) and "" not in ref_ids, panel["title"]


@pytest.mark.parametrize("uid", sorted(VARIABLES))
def test_incident_annotations_are_drawn_on_key_panels(uid: str) -> None:
    board = boards()[uid]
    annotations = {a["name"]: a for a in board["annotations"]["list"]}
    incidents = annotations["llm-sre incidents"]
    assert incidents["target"] == {
        "type": "tags",
        "tags": [panels.ANNOTATION_TAG],
        "matchAny": False,
        "limit": 200,
    }
    key_ids = set(incidents["filter"]["ids"])
    panel_ids = {p["id"] for p in all_panels(board) if p["type"] not in ("row", "stat")}
    assert key_ids and key_ids <= panel_ids
    assert annotations["Annotations & Alerts"]["builtIn"] == 1


def test_issue_panels_are_present() -> None:
    titles = {uid: {p["title"] for p in all_panels(board)} for uid, board in boards().items()}
    assert {
        "Success rate",
        "Error ratio by error type",
        "Latency p50 / p95 / p99",
        "Time to first token",
        "Time per output token",
        "Tokens per second by model",
        "Calls by provider and model",
    } <= titles["llm-sre-llm"]
    assert {
        "Retrieval hit rate",
        "Empty retrievals",
        "Documents per retrieval",
        "Top score distribution",
        "Reranks by outcome",
        "Rerank latency p95 by model",
        "Context tokens per request",
        "Hit rate per cache",
    } <= titles["llm-sre-rag"]
    assert {
        "Ollama",
        "Loaded models",
        "VRAM by model",
        "Model loads and unloads",
        "KV cache usage",
    } <= titles["llm-sre-model-server"]
    assert {
        "CPU (cores)",
        "Memory working set vs limit",
        "Restarts and OOM kills",
        "Health",
        "CPU throttling",
        "Top error patterns (range)",
    } <= titles["llm-sre-containers"]
    assert {"SLI (30 days)", "Burn rate per window", "Error budget remaining", "Alert state"} <= titles[
        "llm-sre-slos"
    ]
    assert {
        "Incidents by severity",
        "Deliveries by sink and outcome",
        "Fallbacks to the deterministic summary",
        "Grounding",
        "Logs",
        "Log events by pattern (top 10)",
        "Primary vs shadow model: accepted",
        "Primary vs shadow model: latency p95",
    } <= titles["llm-sre-incidents"]


def _steps(panel: dict[str, Any]) -> list[float]:
    return [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1:]]


def test_llm_and_container_panels_draw_their_limits() -> None:
    """The panels an on-call reads against a limit show it: SLO error budget, UX latency, alert lines."""
    llm = {panel["title"]: panel for panel in all_panels(boards()["llm-sre-llm"])}
    assert _steps(llm["Error ratio by error type"]) == [0.01]  # the 99 % availability SLO
    for title in ("Latency p50 / p95 / p99", "Time to first token", "Time per output token"):
        assert len(_steps(llm[title])) == 2, title
    containers = {panel["title"]: panel for panel in all_panels(boards()["llm-sre-containers"])}
    # Red where rules/alerts/infrastructure.yml pages: memory > 90 % of the limit, throttling > 0.25 s/s.
    assert _steps(containers["Memory working set vs limit"])[-1] == 0.9
    assert _steps(containers["CPU throttling"])[-1] == 0.25


def test_every_llm_query_follows_the_service_provider_and_model_variables() -> None:
    board = boards()["llm-sre-llm"]
    exprs = [t["expr"] for p in all_panels(board) if p["type"] != "row" for t in p["targets"]]
    assert exprs
    for expr in exprs:
        # The HTTP API row measures the app's routes: no provider or model to filter on.
        variables = ("$service",) if "http_server_" in expr else ("$service", "$provider", "$model")
        for variable in variables:
            assert variable in expr, f"{expr} ignores {variable}"


def test_the_llm_board_ends_with_the_apps_http_routes() -> None:
    """The HTTP row sits after the LLM panels (their ids unchanged) and reads route templates."""
    panels = all_panels(boards()["llm-sre-llm"])
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows[-1].startswith("HTTP API")
    last_row = max(i for i, p in enumerate(panels) if p["type"] == "row")
    http = [t["expr"] for p in panels[last_row + 1:] for t in p["targets"]]
    assert len(http) == 3 and all("http_server_request_duration_seconds" in e for e in http)
    assert all("http_route" in e for e in http)


def test_grounding_keeps_ratio_and_rate_on_separate_axes() -> None:
    grounding = next(p for p in all_panels(boards()["llm-sre-incidents"]) if p["title"] == "Grounding")
    assert grounding["fieldConfig"]["defaults"]["unit"] == "percentunit"
    (override,) = grounding["fieldConfig"]["overrides"]
    legends = {target.get("legendFormat") for target in grounding["targets"]}
    assert override["matcher"] == {"id": "byName", "options": "dropped sentences/s"}
    assert override["matcher"]["options"] in legends
    assert {"id": "unit", "value": "ops"} in override["properties"]


def test_slo_rows_repeat_per_slo_and_logs_use_loki() -> None:
    slos = boards()["llm-sre-slos"]
    assert [p.get("repeat") for p in slos["panels"] if p["type"] == "row"] == [None, "slo"]
    logs = next(p for p in all_panels(boards()["llm-sre-incidents"]) if p["type"] == "logs")
    assert logs["datasource"] == {"type": "loki", "uid": "${loki}"}
    assert logs["targets"][0]["expr"] == '{service=~"$service"}'


def test_render_is_sorted_json_with_trailing_newline() -> None:
    text = render(BOARDS[0]())
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


def test_docs_list_every_board_and_key_panel() -> None:
    docs = (REPO / "docs/stack.md").read_text()
    for uid, board in boards().items():
        assert f"`{uid}`" in docs, f"docs/stack.md does not list {uid}"
        incidents = next(a for a in board["annotations"]["list"] if a["name"] == "llm-sre incidents")
        titles = {p["id"]: p["title"] for p in all_panels(board)}
        for panel_id in incidents["filter"]["ids"]:
            assert f"{panel_id}: {titles[panel_id]}" in docs, f"{uid} key panel {panel_id} is not documented"
