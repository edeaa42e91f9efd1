"""Panel, query and variable builders shared by every llm-sre dashboard.

The dashboards are data: each module lists rows of panels made with these helpers, and
:mod:`llm_sre.dashboards.board` turns them into Grafana JSON with grafana-foundation-sdk. Keeping the
PromQL idioms here (``rate`` windows, ``histogram_quantile`` shapes, "all" values) means every
dashboard queries the same way and a fix lands everywhere at once.

Usage::

    from llm_sre.dashboards import panels as p

    latency = p.timeseries_panel(
        "Latency p95", [p.Query(p.quantile(0.95, "gen_ai_client_operation_duration_seconds"), "p95")],
        unit="s",
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import bargauge, heatmap, logs, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import loki as loki_query
from grafana_foundation_sdk.builders import prometheus as prom_query
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import heatmap as heatmap_model
from grafana_foundation_sdk.models import prometheus as prom_model

# Provisioned data source UIDs (provisioning/grafana/datasources/datasources.yml); the dashboards
# select Prometheus and Loki through variables whose default is the provisioned instance, so a team
# with several Prometheus servers can switch without editing JSON.
PROMETHEUS_UID = "prometheus"
LOKI_UID = "loki"
ALERTMANAGER_UID = "alertmanager"
PROMETHEUS = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
LOKI = model.DataSourceRef(type_val="loki", uid="${loki}")
GRAFANA = model.DataSourceRef(type_val="grafana", uid="-- Grafana --")

# Every annotation the webhook service writes carries this tag (alongside alertname, severity, service).
ANNOTATION_TAG = "llm-sre"

# `$__rate_interval` is at least four scrape intervals, so rate() never sees a single sample.
RATE = "$__rate_interval"
# Regex "all" value: `.+` rather than `.*` so Loki accepts `{service=~"$service"}` too (Loki rejects
# selectors whose every matcher matches the empty string).
ALL = ".+"

Panel = cogbuilder.Builder[model.Panel]


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel: ``instant``/``table`` for tables and bar lists."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Tile:
    """A panel placed on a dashboard; ``key`` panels show the llm-sre incident annotations."""

    panel: Panel
    key: bool = False


# --- PromQL shapes ---------------------------------------------------------------------------


def rate(metric: str, sel: str = "", by: Sequence[str] = (), window: str = RATE) -> str:
    """``sum by (...) (rate(metric{sel}[window]))``."""
    return f"sum{_by(by)}(rate({metric}{sel}[{window}]))"


def increase(metric: str, sel: str = "", by: Sequence[str] = (), window: str = RATE) -> str:
    return f"sum{_by(by)}(increase({metric}{sel}[{window}]))"


def quantile(q: float, histogram: str, sel: str = "", by: Sequence[str] = ()) -> str:
    """``histogram_quantile`` over a classic histogram's ``_bucket`` series, aggregated by ``le``."""
    return f"histogram_quantile({q}, {rate(histogram + '_bucket', sel, ('le', *by))})"


def percentiles(
    histogram: str,
    sel: str = "",
    qs: Sequence[float] = (0.5, 0.95, 0.99),
    by: Sequence[str] = (),
    legend: str = "",
) -> list[Query]:
    """One query per quantile, legends ``<legend>p50``, ``<legend>p95``, ..."""
    return [Query(quantile(q, histogram, sel, by), f"{legend}p{round(q * 100)}") for q in qs]


def ratio(numerator: str, denominator: str) -> str:
    """``num / den`` where both sides are already aggregated to the same labels."""
    return f"({numerator})\n/\n({denominator})"


def mean(histogram: str, sel: str = "", by: Sequence[str] = ()) -> str:
    """Mean observation of a histogram over the window: rate(sum) / rate(count)."""
    return ratio(rate(histogram + "_sum", sel, by), rate(histogram + "_count", sel, by))


def _by(labels: Sequence[str]) -> str:
    return f" by ({', '.join(labels)}) " if labels else " "


# --- Variables --------------------------------------------------------------------------------


def datasource_variable(name: str, plugin: str, uid: str, label: str) -> dash.DatasourceVariable:
    """A data source picker defaulting to the provisioned instance ``uid``."""
    return (
        dash.DatasourceVariable(name)
        .label(label)
        .type(plugin)
        .current(model.VariableOption(selected=True, text=uid, value=uid))
    )


def label_variable(name: str, metric: str, label: str, title: str) -> dash.QueryVariable:
    """A multi-select over the values of ``label`` on ``metric``, with an "All" that is a regex.

    The query is the classic ``label_values()`` string, which every Grafana version since 7 runs
    as-is (the structured editor form differs between versions).
    """
    return (
        dash.QueryVariable(name)
        .label(title)
        .datasource(PROMETHEUS)
        .query(f"label_values({metric}, {label})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(ALL)
        .current(model.VariableOption(selected=True, text="All", value="$__all"))
    )


# --- Panels -----------------------------------------------------------------------------------


def _prom_targets(queries: Sequence[Query]) -> list[prom_query.Dataquery]:
    targets = []
    for index, q in enumerate(queries):
        target = prom_query.Dataquery().expr(q.expr).ref_id(chr(ord("A") + index)).datasource(PROMETHEUS)
        if q.legend:
            target = target.legend_format(q.legend)
        target = target.instant() if q.instant else target.range()
        if q.table:
            target = target.format(prom_model.PromQueryFormat.TABLE)
        targets.append(target)
    return targets


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: ``(None, "green"), (0.9, "red")`` — the first step is the base colour."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


# Thresholds for ratios where higher is better (success, hit rate, budget left).
GOOD_HIGH = thresholds((None, "red"), (0.95, "orange"), (0.99, "green"))
NEUTRAL = thresholds((None, "green"))


def timeseries_panel(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    description: str = "",
    width: int = 12,
    height: int = 8,
    stack: bool = False,
    limits: dash.ThresholdsConfig | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .targets(_prom_targets(queries))
        .unit(unit)
        .span(width)
        .height(height)
        .fill_opacity(10)
        .line_width(1)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["mean", "max", "lastNotNull"])
        )
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
    )
    if stack:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if limits is not None:
        panel = panel.thresholds(limits).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    return panel


def own_axis(unit: str) -> list[model.DynamicConfigValue]:
    """Field-override properties that put a series of another unit on its own right-hand axis."""
    return [
        model.DynamicConfigValue(id_val="unit", value=unit),
        model.DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
    ]


def stat_panel(
    title: str,
    query: Query,
    *,
    unit: str,
    description: str = "",
    limits: dash.ThresholdsConfig = NEUTRAL,
    mappings: Sequence[model.ValueMapping] = (),
    width: int = 6,
    height: int = 4,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .targets(_prom_targets([query]))
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(limits)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if mappings:
        panel = panel.mappings(list(mappings))
    return panel


def up_down_mappings() -> list[model.ValueMapping]:
    """Render 1/0 gauges as UP/DOWN with colours that need no thresholds legend."""
    return [
        model.ValueMap(
            options={
                "0": model.ValueMappingResult(text="DOWN", color="red", index=0),
                "1": model.ValueMappingResult(text="UP", color="green", index=1),
            }
        )
    ]


def table_panel(
    title: str,
    query: Query,
    *,
    description: str = "",
    width: int = 12,
    height: int = 8,
    hidden: Sequence[str] = ("Time",),
) -> table.Panel:
    """An instant table; ``hidden`` columns (the sample time by default) are dropped by a transformation."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .targets(_prom_targets([Query(query.expr, query.legend, instant=True, table=True)]))
        .span(width)
        .height(height)
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize", options={"excludeByName": dict.fromkeys(hidden, True)}
            )
        )
    )


def bar_panel(
    title: str, query: Query, *, unit: str, description: str = "", width: int = 12, height: int = 8
) -> bargauge.Panel:
    """Horizontal bars of an instant query: a top-N list that reads at a glance."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .targets(_prom_targets([Query(query.expr, query.legend, instant=True)]))
        .unit(unit)
        .span(width)
        .height(height)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def heatmap_panel(
    title: str, expr: str, *, unit: str, description: str = "", width: int = 12, height: int = 8
) -> heatmap.Panel:
    """A heatmap of histogram buckets (``sum by (le) (increase(..._bucket))``) as Grafana expects them."""
    target = (
        prom_query.Dataquery()
        .expr(expr)
        .ref_id("A")
        .datasource(PROMETHEUS)
        .legend_format("{{le}}")
        .format(prom_model.PromQueryFormat.HEATMAP)
        .range()
    )
    return (
        heatmap.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .targets([target])
        .span(width)
        .height(height)
        .calculate(False)
        .y_axis(heatmap.YAxisConfig().unit(unit))
        .color(
            heatmap.HeatmapColorOptions()
            .mode(heatmap_model.HeatmapColorMode.SCHEME)
            .scheme("Oranges")
            .exponent(0.5)
            .steps(64)
        )
    )


def logs_panel(
    title: str, expr: str, *, description: str = "", width: int = 24, height: int = 12
) -> logs.Panel:
    return (
        logs.Panel()
        .title(title)
        .description(description)
        .datasource(LOKI)
        .targets([loki_query.Dataquery().expr(expr).ref_id("A").datasource(LOKI)])
        .span(width)
        .height(height)
        .show_time(True)
        .wrap_log_message(True)
        .sort_order(common.LogsSortOrder.DESCENDING)
        .enable_log_details(True)
    )
