"""LLM overview: is the model answering, how fast, and how much — per provider and model.

Built on the OpenTelemetry GenAI histograms (latency, TTFT, time per output token) and llm-sre's
call/token counters, whose ``error_type`` label is empty on success.
"""

from __future__ import annotations

from llm_sre.dashboards import panels as p
from llm_sre.dashboards.board import Board, Row

UID = "llm-sre-llm"

# `service` is the scrape target's label (prometheus.yml): which app made the calls, when several
# instrumented apps, or the exporter's trace files, share one Prometheus.
_FILTERS = 'service=~"$service", gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model"'
SEL = f"{{{_FILTERS}}}"
OK = f'{{{_FILTERS}, error_type=""}}'
ERR = f'{{{_FILTERS}, error_type!=""}}'

CALLS = "llm_sre_llm_calls_total"
TOKENS = "llm_sre_llm_tokens_total"
TOKEN_USAGE = "gen_ai_client_token_usage"
DURATION = "gen_ai_client_operation_duration_seconds"
TTFC = "gen_ai_client_operation_time_to_first_chunk_seconds"
TPOC = "gen_ai_client_operation_time_per_output_chunk_seconds"
TTFT = "gen_ai_server_time_to_first_token_seconds"
TPOT = "gen_ai_server_time_per_output_token_seconds"
# The app's own HTTP server (exporters.http_server): route templates, stable HTTP conventions.
HTTP = "http_server_request_duration_seconds"
HTTP_SEL = '{service=~"$service"}'
HTTP_5XX = '{service=~"$service", http_response_status_code=~"5.."}'

# Latency thresholds (seconds) drawn as dashed lines: a chat answer past 10 s feels broken.
LATENCY_LIMITS = p.thresholds((None, "green"), (5, "orange"), (10, "red"))
# A streamed answer that shows nothing for 3 s reads as hung, whatever the total latency.
TTFT_LIMITS = p.thresholds((None, "green"), (1, "orange"), (3, "red"))
# 0.1 s per token (10 tokens/s) is about reading speed: slower decoding makes users wait on the text.
TPOT_LIMITS = p.thresholds((None, "green"), (0.05, "orange"), (0.1, "red"))
# Past 1 % of calls failing, the LLM availability SLO (99 %, rules/slos.yaml) burns faster than budgeted.
ERROR_LIMITS = p.thresholds((None, "green"), (0.01, "red"))


def http_row() -> Row:
    """The API in front of the model, as its users see it; last, so earlier panel ids stay put."""
    by_route = ("http_route",)
    errors = p.ratio(p.rate(f"{HTTP}_count", HTTP_5XX, by_route), p.rate(f"{HTTP}_count", HTTP_SEL, by_route))
    return Row(
        "HTTP API (the app's FastAPI routes)",
        [
            p.Tile(
                p.timeseries_panel(
                    "Requests per second by route",
                    [p.Query(p.rate(f"{HTTP}_count", HTTP_SEL, (*by_route, "http_response_status_code")),
                             "{{http_route}} {{http_response_status_code}}")],
                    unit="reqps",
                    stack=True,
                    description="http_server_request_duration_seconds from exporters.http_server: routes are "
                    "FastAPI's templates; requests no route matched have an empty route.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "5xx ratio by route",
                    [p.Query(errors, "{{http_route}}")],
                    unit="percentunit",
                    limits=ERROR_LIMITS,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "p95 latency by route",
                    [p.Query(p.quantile(0.95, HTTP, HTTP_SEL, by_route), "{{http_route}}")],
                    unit="s",
                    limits=LATENCY_LIMITS,
                    description="Whole request, retrieval and model call included: compare with the LLM "
                    "latency above to see how much of it is the model.",
                    width=24,
                )
            ),
        ],
    )


def board() -> Board:
    success = p.ratio(p.rate(CALLS, OK), p.rate(CALLS, SEL))
    error_ratio = (
        f"{p.rate(CALLS, ERR, ('error_type',))}\n/ ignoring(error_type) group_left\n{p.rate(CALLS, SEL)}"
    )
    health = Row(
        "Health",
        [
            p.Tile(
                p.stat_panel(
                    "Success rate",
                    p.Query(success),
                    unit="percentunit",
                    limits=p.GOOD_HIGH,
                    description="Share of LLM calls that returned without an error.",
                )
            ),
            p.Tile(
                p.stat_panel(
                    "Latency p95",
                    p.Query(p.quantile(0.95, DURATION, SEL)),
                    unit="s",
                    limits=LATENCY_LIMITS,
                    description="Client-side duration of a whole call.",
                )
            ),
            p.Tile(p.stat_panel("Calls per second", p.Query(p.rate(CALLS, SEL)), unit="reqps")),
            p.Tile(p.stat_panel("Tokens per second", p.Query(p.rate(TOKENS, SEL)), unit="suffix: tok/s")),
            p.Tile(
                p.timeseries_panel(
                    "Error ratio by error type",
                    [p.Query(error_ratio, "{{error_type}}")],
                    unit="percentunit",
                    stack=True,
                    min_value=0,
                    limits=ERROR_LIMITS,
                    description="Errors as a share of all calls; error_type is the exception class "
                    "or HTTP status.",
                ),
                key=True,
            ),
            p.Tile(
                p.timeseries_panel(
                    "Latency p50 / p95 / p99", p.percentiles(DURATION, SEL), unit="s", limits=LATENCY_LIMITS
                ),
                key=True,
            ),
        ],
    )
    streaming = Row(
        "Streaming and server timings",
        [
            p.Tile(
                p.timeseries_panel(
                    "Time to first token",
                    [
                        p.Query(p.quantile(0.5, TTFC, SEL), "client p50"),
                        p.Query(p.quantile(0.95, TTFC, SEL), "client p95"),
                        p.Query(p.quantile(0.95, TTFT, SEL), "server p95"),
                    ],
                    unit="s",
                    limits=TTFT_LIMITS,
                    description=(
                        "Client: first streamed token as the app saw it. Server: model load + prompt "
                        "evaluation, from the model server's own timings."
                    ),
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Time per output token",
                    [*p.percentiles(TPOT, SEL, qs=(0.5, 0.95)),
                     p.Query(p.quantile(0.95, TPOC, SEL), "client per chunk p95")],
                    unit="s",
                    limits=TPOT_LIMITS,
                    description="Decode speed. Server: (request duration - time to first token) / (output "
                    "tokens - 1), as the GenAI conventions define it. Client: the gap between streamed "
                    "chunks after the first.",
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "p95 latency by model",
                    [
                        p.Query(
                            p.quantile(0.95, DURATION, SEL, ("gen_ai_request_model",)),
                            "{{gen_ai_request_model}}",
                        ),
                    ],
                    unit="s",
                    limits=LATENCY_LIMITS,
                ),
                key=True,
            ),
        ],
    )
    traffic = Row(
        "Traffic",
        [
            p.Tile(
                p.timeseries_panel(
                    "Tokens per second by model",
                    [
                        p.Query(
                            p.rate(TOKENS, SEL, ("gen_ai_request_model", "gen_ai_token_type")),
                            "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                        ),
                    ],
                    unit="suffix: tok/s",
                    stack=True,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Calls by provider and model",
                    [
                        p.Query(
                            p.rate(CALLS, SEL, ("gen_ai_provider_name", "gen_ai_request_model")),
                            "{{gen_ai_provider_name}} / {{gen_ai_request_model}}",
                        ),
                    ],
                    unit="reqps",
                    stack=True,
                )
            ),
            p.Tile(
                p.table_panel(
                    "Calls by operation and outcome (selected range)",
                    p.Query(
                        f"sum by (gen_ai_operation_name, gen_ai_request_model, error_type) "
                        f"(increase({CALLS}{SEL}[$__range]))"
                    ),
                    width=24,
                )
            ),
            p.Tile(
                p.timeseries_panel(
                    "Tokens per call p95",
                    [
                        p.Query(
                            p.quantile(0.95, TOKEN_USAGE, SEL, ("gen_ai_token_type",)),
                            "{{gen_ai_token_type}}",
                        ),
                    ],
                    unit="short",
                    min_value=0,
                    description="Prompt (input) and completion (output) size of a call: long prompts cost "
                    "time to first token, long completions cost decode time.",
                    width=24,
                )
            ),
        ],
    )
    return Board(
        uid=UID,
        rows=(health, streaming, traffic, http_row()),
        title="LLM overview",
        description="Success, latency, time to first token and token throughput of LLM calls.",
        variables=(
            p.label_variable("service", CALLS, "service", "Service"),
            p.label_variable(
                "provider", f'{CALLS}{{service=~"$service"}}', "gen_ai_provider_name", "Provider"
            ),
            p.label_variable(
                "model",
                f'{CALLS}{{service=~"$service", gen_ai_provider_name=~"$provider"}}',
                "gen_ai_request_model",
                "Model",
            ),
        ),
    )
