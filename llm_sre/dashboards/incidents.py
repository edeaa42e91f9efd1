"""Incidents: what the webhook service received and delivered, how the analyst did, and the logs.

The page an on-call engineer lands on from a Slack link: incident annotations (tag ``llm-sre``)
on the key panels, delivery health of the webhook service, LLM fallback and grounding of the
summaries, and the selected service's log patterns next to its raw logs in Loki.
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-incidents"

# Log patterns and app errors are mined by the exporter sidecar, so Prometheus keeps the sidecar's
# target label as `service` and files the logging service under `exported_service` (the alert
# rules in rules/alerts/incidents.yml read it the same way).
SVC = '{exported_service=~"$service"}'
DELIVERIES = "llm_sre_webhook_deliveries_total"
PATTERN_LABELS = ("exported_service", "level", "pattern")
DROPPED = "dropped sentences/s"


def _pipeline() -> Row:
    """Is the telemetry itself arriving? A silent exporter looks exactly like a healthy app."""
    return Row(
        "Telemetry pipeline",
        [
            p.Tile(
                p.timeseries_panel(
                    "Scrape targets up",
                    [p.Query("min by (job) (up)", "{{job}}")],
                    unit="none",
                    min_value=0,
                    max_value=1,
                    limits=p.thresholds((None, "red"), (1, "green")),
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Exporter source errors",
                    [p.Query(p.rate("llm_sre_exporter_collect_errors_total", by=("source",)), "{{source}}")],
                    unit="ops",
                    description="Failed reads of the Docker API, Ollama or the trace files.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Trace events and malformed lines",
                    [
                        p.Query(p.rate("llm_sre_trace_events_total", by=("event",)), "{{event}}"),
                        p.Query(
                            p.rate("llm_sre_trace_malformed_lines_total", by=("reason",)),
                            "malformed {{reason}}",
                        ),
                    ],
                    unit="ops",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Loki shipping",
                    [
                        p.Query(p.rate("llm_sre_loki_records_sent_total"), "sent"),
                        p.Query(
                            p.rate("llm_sre_loki_records_dropped_total", by=("reason",)), "dropped {{reason}}"
                        ),
                        p.Query(p.rate("llm_sre_loki_push_failures_total"), "push failures"),
                    ],
                    unit="ops",
                    description="Records the llm-sre Loki handler sent, dropped (queue full, too old) "
                    "and failed pushes.",
                )
            ),
        ],
    )


ANSWERS = "llm_sre_analyst_answer_duration_seconds"
FEEDBACK = "llm_sre_analyst_feedback_total"
COMPARED = "llm_sre_analyst_compared_refinements_total"
BY_ANALYST = ("analyst", "category")


def _trust() -> Row:
    """Can on-call trust the model's summaries, and what do they cost? (docs/analyst.md)"""
    return Row(
        "Analyst trust and budget",
        [
            p.Tile(
                p.timeseries_panel(
                    "LLM answers accepted",
                    [
                        p.Query(
                            p.ratio(
                                p.rate(ANSWERS + "_count", '{outcome="accepted"}'), p.rate(ANSWERS + "_count")
                            ),
                            "accepted",
                        )
                    ],
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                    description="Share of the model's answers that passed the grounding check.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "LLM latency p95 by acceptance",
                    [p.Query(p.quantile(0.95, ANSWERS, by=("outcome",)), "{{outcome}}")],
                    unit="s",
                    description="Slow answers that are also rejected cost the most for nothing.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Fabricated citations caught",
                    [p.Query(p.increase("llm_sre_analyst_fabricated_citations_total"), "citations")],
                    unit="short",
                    description="Claims that cited evidence which does not exist; never delivered.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Tokens per summary (median)",
                    [
                        p.Query(
                            p.quantile(0.5, "llm_sre_analyst_summary_tokens", by=("outcome",)), "{{outcome}}"
                        )
                    ],
                    unit="short",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Summaries found helpful (on-call feedback)",
                    [
                        p.Query(
                            p.ratio(
                                p.increase(FEEDBACK, '{choice="helpful"}', by=BY_ANALYST, window="1d"),
                                p.increase(FEEDBACK, by=BY_ANALYST, window="1d"),
                            ),
                            "{{analyst}} {{category}}",
                        )
                    ],
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                    description="👍 / all Slack feedback clicks over a day, by who wrote the summary.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "LLM budget left",
                    [p.Query("min by (resource) (llm_sre_analyst_budget_remaining)", "{{resource}}")],
                    unit="short",
                    min_value=0,
                    description="Tokens and model-seconds left in the sliding hour "
                    "(LLM_SRE_LLM_BUDGET_*); empty when no budget is set.",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Refinements skipped",
                    [
                        p.Query(
                            p.rate("llm_sre_analyst_refinements_skipped_total", by=("reason",)), "{{reason}}"
                        )
                    ],
                    unit="ops",
                    stack=True,
                    description="budget_exhausted: the hourly budget was spent; prompt_too_large: the prompt "
                    "exceeds the context limit or the whole budget. The summary stayed deterministic.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Primary vs shadow model: accepted",
                    [
                        p.Query(
                            p.ratio(
                                p.increase(COMPARED, '{outcome="accepted"}', by=("config",), window="1h"),
                                p.increase(COMPARED, by=("config",), window="1h"),
                            ),
                            "{{config}}",
                        ),
                    ],
                    unit="percentunit",
                    min_value=0,
                    max_value=1,
                    description="Shadow mode (LLM_SRE_SHADOW_*): the candidate model's answers on the same "
                    "live incidents, never delivered. `llm-sre eval --shadow` lists them per incident.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Primary vs shadow model: latency p95",
                    [p.Query(p.quantile(0.95, "llm_sre_analyst_compared_duration_seconds", by=("config",)),
                             "{{config}}")],
                    unit="s",
                )
            ),
        ],
    )


def board() -> Board:
    failed = '{outcome="dead_letter"}'
    webhook = Row(
        "Webhook service",
        [
            p.Tile(
                p.stat_panel(
                    "Incidents (range)",
                    p.Query(p.increase("llm_sre_webhook_incidents_total", window="$__range")),
                    unit="short",
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Queue depth",
                    p.Query("sum(llm_sre_webhook_queue_depth)"),
                    unit="short",
                    limits=p.thresholds((None, "green"), (100, "orange"), (1000, "red")),
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Oldest queued",
                    p.Query("max(llm_sre_webhook_queue_oldest_age_seconds)"),
                    unit="s",
                    limits=p.thresholds((None, "green"), (60, "orange"), (300, "red")),
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Dead letters",
                    p.Query("sum(llm_sre_webhook_dead_letters)"),
                    unit="short",
                    limits=p.thresholds((None, "green"), (1, "red")),
                    description="Deliveries that gave up; re-drive them with `llm-sre replay`.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Incidents by severity",
                    [
                        p.Query(
                            p.increase("llm_sre_webhook_incidents_total", by=("severity",)), "{{severity}}"
                        ),
                    ],
                    unit="short",
                    stack=True,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Notifications by outcome",
                    [
                        p.Query(
                            p.rate("llm_sre_webhook_notifications_total", by=("outcome",)), "{{outcome}}"
                        ),
                    ],
                    unit="reqps",
                    stack=True,
                    description="duplicate = an Alertmanager re-send or re-notify, recognised and not "
                    "delivered again.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Deliveries by sink and outcome",
                    [
                        p.Query(p.rate(DELIVERIES, by=("sink", "outcome")), "{{sink}} {{outcome}}"),
                    ],
                    unit="ops",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Retries and dead letters by sink",
                    [
                        p.Query(
                            p.rate("llm_sre_webhook_delivery_retries_total", by=("sink",)), "retry {{sink}}"
                        ),
                        p.Query(p.rate(DELIVERIES, failed, ("sink",)), "dead letter {{sink}}"),
                    ],
                    unit="ops",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Processing latency",
                    p.percentiles("llm_sre_webhook_processing_duration_seconds"),
                    unit="s",
                    width=24,
                    description="From notification accepted to every sink delivered.",
                )
            ),
        ],
    )
    analyst = Row(
        "Incident analyst",
        [
            p.Tile(
                p.timeseries_panel(
                    "Summaries by backend",
                    [
                        p.Query(p.rate("llm_sre_analyst_results_total", by=("backend",)), "{{backend}}"),
                    ],
                    unit="ops",
                    stack=True,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Fallbacks to the deterministic summary",
                    [
                        p.Query(p.rate("llm_sre_analyst_fallbacks_total", by=("reason",)), "{{reason}}"),
                    ],
                    unit="ops",
                    stack=True,
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "LLM latency p95 by backend",
                    [
                        p.Query(
                            p.quantile(0.95, "llm_sre_analyst_llm_duration_seconds", by=("backend",)),
                            "{{backend}}",
                        ),
                    ],
                    unit="s",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Grounding",
                    [
                        *p.percentiles(
                            "llm_sre_analyst_grounded_ratio", qs=(0.5, 0.1), legend="grounded ratio "
                        ),
                        p.Query(p.rate("llm_sre_analyst_dropped_sentences_total"), DROPPED),
                    ],
                    unit="percentunit",
                    min_value=0,
                    # A median under 80 % means the LLM mostly writes what the evidence does not say.
                    limits=p.thresholds((None, "red"), (0.8, "green")),
                    description="Share of summary sentences backed by evidence (left axis); ungrounded "
                    "ones are dropped (right axis, per second).",
                ).override_by_name(DROPPED, p.own_axis("ops"))
            ),
        ],
    )
    logs = Row(
        "Logs of $service",
        [
            p.Tile(
                p.timeseries_panel(
                    "Log events by pattern (top 10)",
                    [
                        p.Query(
                            f"topk(10, {p.rate('llm_sre_log_events_total', SVC, PATTERN_LABELS)})",
                            "{{level}} {{pattern}}",
                        ),
                    ],
                    unit="ops",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "New log patterns",
                    [
                        p.Query(
                            p.increase("llm_sre_log_new_patterns_total", SVC, ("exported_service", "level")),
                            "{{exported_service}} {{level}}",
                        ),
                    ],
                    unit="short",
                    description="A template never seen before: often the first sign of a new failure.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Application errors by route and code",
                    [
                        p.Query(
                            p.increase(
                                "llm_sre_app_errors_total", SVC, ("exported_service", "route", "error_code")
                            ),
                            "{{route}} {{error_code}}",
                        ),
                    ],
                    unit="short",
                    width=24,
                    stack=True,
                ),
                key=True,
            ),
            p.Tile(
                p.logs_panel(
                    "Logs",
                    '{service=~"$service"}',
                    description="Container logs shipped by the collector (labels: service, container, "
                    "stream).",
                )
            ),
        ],
    )
    return Board(
        uid=UID,
        title="Incidents",
        description="Incidents, webhook deliveries, analyst fallbacks and grounding, log patterns and logs.",
        variables=(
            p.datasource_variable("loki", "loki", p.LOKI_UID, "Loki"),
            p.label_variable("service", "llm_sre_log_events_total", "exported_service", "Service"),
        ),
        rows=(webhook, analyst, logs, _pipeline(), _trust()),
    )
