"""Containers: resources, restarts, OOM kills and health of the stack's containers.

Uses the llm-sre docker exporter's ``llm_sre_container_*`` series: they carry ``compose_service``
and add what cAdvisor cannot see (restarts, exit codes, health, log error patterns).
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-containers"

SVC = '{compose_service=~"$service"}'
BY_NAME = ("compose_service", "name")
LEGEND = "{{name}}"
# Red at the alert thresholds in rules/alerts/infrastructure.yml (ContainerMemoryNearLimit at 90 %
# of the limit, ContainerCPUThrottled at 0.25 s/s), so the line a curve crosses is the page.
MEMORY_LIMITS = p.thresholds((None, "green"), (0.8, "orange"), (0.9, "red"))
THROTTLING_LIMITS = p.thresholds((None, "green"), (0.1, "orange"), (0.25, "red"))


def _per_container(metric: str) -> str:
    return p.rate(metric, SVC, BY_NAME)


def board() -> Board:
    memory_ratio = (
        f"sum by (compose_service, name) (llm_sre_container_memory_working_set_bytes{SVC})\n"
        f"/\n(sum by (compose_service, name) (llm_sre_container_spec_memory_limit_bytes{SVC}) > 0)"
    )
    status = Row(
        "Status",
        [
            p.Tile(p.stat_panel("Containers up", p.Query(f"sum(llm_sre_container_up{SVC})"), unit="short")),
            p.Tile(
                p.stat_panel(
                    "Restarts (range)",
                    p.Query(p.increase("llm_sre_container_restarts_total", SVC, window="$__range")),
                    unit="short",
                    limits=p.thresholds((None, "green"), (1, "orange"), (5, "red")),
                )
            ),
            p.Tile(
                p.stat_panel(
                    "OOM kills (range)",
                    p.Query(p.increase("llm_sre_container_oom_kills_total", SVC, window="$__range")),
                    unit="short",
                    limits=p.thresholds((None, "green"), (1, "red")),
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Unhealthy",
                    p.Query(
                        'sum(llm_sre_container_health_status{compose_service=~"$service", '
                        'status="unhealthy"})'
                    ),
                    unit="short",
                    limits=p.thresholds((None, "green"), (1, "red")),
                )
            ),
            p.Tile(
                p.table_panel(
                    "Health",
                    p.Query(
                        f"max by (compose_service, name, status) (llm_sre_container_health_status{SVC} == 1)"
                    ),
                    hidden=("Time", "Value"),
                    description="Current Docker health status per container.",
                )
            ),
            p.Tile(
                p.table_panel(
                    "Last exit codes (non-zero)",
                    p.Query(f"max by (compose_service, name) (llm_sre_container_last_exit_code{SVC}) != 0"),
                    description="137 = killed (often OOM), 143 = SIGTERM, 1 = application error.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Restarts and OOM kills",
                    [
                        p.Query(
                            p.increase("llm_sre_container_restarts_total", SVC, BY_NAME), "restart {{name}}"
                        ),
                        p.Query(
                            p.increase("llm_sre_container_oom_kills_total", SVC, BY_NAME), "OOM {{name}}"
                        ),
                    ],
                    unit="short",
                    width=24,
                ),
                key=True,
            ),
        ],
    )
    resources = Row(
        "Resources",
        [
            p.Tile(
                p.timeseries_panel(
                    "CPU (cores)",
                    [
                        p.Query(_per_container("llm_sre_container_cpu_usage_seconds_total"), LEGEND),
                    ],
                    unit="short",
                    min_value=0,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Memory working set vs limit",
                    [p.Query(memory_ratio, LEGEND)],
                    unit="percentunit",
                    min_value=0,
                    limits=MEMORY_LIMITS,
                    description="Containers without a memory limit are not shown.",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Memory working set",
                    [
                        p.Query(
                            f"sum by (compose_service, name) "
                            f"(llm_sre_container_memory_working_set_bytes{SVC})",
                            LEGEND,
                        ),
                    ],
                    unit="bytes",
                    min_value=0,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "CPU throttling",
                    [
                        p.Query(_per_container("llm_sre_container_cpu_cfs_throttled_seconds_total"), LEGEND),
                    ],
                    unit="s",
                    min_value=0,
                    limits=THROTTLING_LIMITS,
                    description="Seconds per second spent throttled by the CPU quota.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Network",
                    [
                        p.Query(
                            _per_container("llm_sre_container_network_receive_bytes_total"), "rx {{name}}"
                        ),
                        p.Query(
                            f"-{_per_container('llm_sre_container_network_transmit_bytes_total')}",
                            "tx {{name}}",
                        ),
                    ],
                    unit="Bps",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Disk I/O",
                    [
                        p.Query(_per_container("llm_sre_container_fs_reads_bytes_total"), "read {{name}}"),
                        p.Query(
                            f"-{_per_container('llm_sre_container_fs_writes_bytes_total')}", "write {{name}}"
                        ),
                    ],
                    unit="Bps",
                )
            ),
        ],
    )
    logs = Row(
        "Container logs",
        [
            p.Tile(
                p.bar_panel(
                    "Top error patterns (range)",
                    p.Query(
                        f"topk(10, sum by (compose_service, pattern) "
                        f"(increase(llm_sre_container_log_errors_total{SVC}[$__range])))",
                        "{{compose_service}}: {{pattern}}",
                    ),
                    unit="short",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Error log lines per second",
                    [
                        p.Query(
                            p.rate("llm_sre_container_log_errors_total", SVC, ("compose_service",)),
                            "{{compose_service}}",
                        ),
                    ],
                    unit="ops",
                    stack=True,
                ),
                key=True,
            ),
        ],
    )
    return Board(
        uid=UID,
        title="Containers",
        description="CPU, memory against limits, restarts, OOM kills, health and log error patterns.",
        variables=(
            p.label_variable("service", "llm_sre_container_up", "compose_service", "Compose service"),
        ),
        rows=(status, resources, logs),
    )
