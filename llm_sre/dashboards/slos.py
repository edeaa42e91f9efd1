"""SLOs: for each objective the SLI, burn rate per alert window, error budget left and alert state.

Reads the Sloth-style recording rules in ``rules/generated/`` (``slo:sli_error:ratio_rate<window>``,
``slo:error_budget:ratio``, ...) whose names SRE teams already know from Sloth's dashboards. One
row per SLO, repeated over the ``slo`` variable.
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-slos"

SLO = '{sloth_service=~"$service", sloth_slo=~"$slo"}'
# The multi-window multi-burn-rate windows (page 5m/1h, 30m/6h; ticket 2h/1d, 6h/3d).
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# Burn-rate factors of those alerts, drawn as dashed lines.
BURN_LIMITS = p.thresholds((None, "green"), (1, "yellow"), (3, "orange"), (6, "red"), (14.4, "dark-red"))
BUDGET_LIMITS = p.thresholds((None, "red"), (0, "orange"), (0.25, "green"))


def _burn_rate(window: str) -> str:
    return (
        f"max by (sloth_id) (slo:sli_error:ratio_rate{window}{SLO})\n"
        f"/ on (sloth_id)\nmax by (sloth_id) (slo:error_budget:ratio{SLO})"
    )


def board() -> Board:
    overview = Row(
        "All SLOs",
        [
            p.Tile(
                p.table_panel(
                    "Error budget remaining (30 days)",
                    p.Query(
                        f"max by (sloth_service, sloth_slo) (slo:period_error_budget_remaining:ratio{SLO})"
                    ),
                    description="1 = untouched, 0 = spent, below 0 = objective missed for the period.",
                    width=12,
                )
            ),
            p.Tile(
                p.table_panel(
                    "Firing SLO alerts",
                    p.Query(
                        "count by (alertname, sloth_service, sloth_slo, severity) "
                        '(ALERTS{alertstate="firing", sloth_service=~"$service", sloth_slo=~"$slo"})'
                    ),
                    hidden=("Time", "Value"),
                    width=12,
                )
            ),
        ],
    )
    per_slo = Row(
        "SLO $slo",
        [
            p.Tile(
                p.stat_panel(
                    "SLI (30 days)",
                    p.Query(f"1 - max(slo:sli_error:ratio_rate30d{SLO})"),
                    unit="percentunit",
                    limits=p.GOOD_HIGH,
                    width=6,
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Objective", p.Query(f"max(slo:objective:ratio{SLO})"), unit="percentunit", width=6
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Error budget remaining",
                    p.Query(f"max(slo:period_error_budget_remaining:ratio{SLO})"),
                    unit="percentunit",
                    limits=BUDGET_LIMITS,
                    width=6,
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Current burn rate",
                    p.Query(f"max(slo:current_burn_rate:ratio{SLO})"),
                    unit="x",
                    limits=BURN_LIMITS,
                    width=6,
                    description="1× spends exactly the budget over 30 days.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Burn rate per window",
                    [p.Query(_burn_rate(w), w) for w in WINDOWS],
                    unit="x",
                    limits=BURN_LIMITS,
                    min_value=0,
                    description="Page: 14.4× on 5m and 1h, or 6× on 30m and 6h. "
                    "Ticket: 3× on 2h and 1d, or 1× on 6h and 3d.",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "SLI vs objective",
                    [
                        p.Query(f"1 - max(slo:sli_error:ratio_rate5m{SLO})", "SLI 5m"),
                        p.Query(f"1 - max(slo:sli_error:ratio_rate1h{SLO})", "SLI 1h"),
                        p.Query(f"max(slo:objective:ratio{SLO})", "objective"),
                    ],
                    unit="percentunit",
                    max_value=1,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Error budget remaining",
                    [
                        p.Query(f"max(slo:period_error_budget_remaining:ratio{SLO})", "remaining"),
                    ],
                    unit="percentunit",
                    limits=BUDGET_LIMITS,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Alert state",
                    [
                        p.Query(
                            f"count by (alertname, severity, alertstate) (ALERTS{SLO})",
                            "{{alertname}} {{severity}} {{alertstate}}",
                        ),
                    ],
                    unit="short",
                    min_value=0,
                    description="Pending and firing burn-rate alerts of this SLO.",
                )
            ),
        ],
        repeat="slo",
    )
    return Board(
        uid=UID,
        title="SLOs",
        description="SLIs, multi-window burn rates, error budgets and alert state per SLO.",
        variables=(
            p.label_variable("service", "slo:objective:ratio", "sloth_service", "Service"),
            p.label_variable("slo", 'slo:objective:ratio{sloth_service=~"$service"}', "sloth_slo", "SLO"),
        ),
        rows=(overview, per_slo),
    )
