"""The SRE analyst: latency and error trends, error budgets, and threshold forecasts."""

from __future__ import annotations

from alert_webhooks.analysis.sources import fmt
from analysts.base import Finding, Query, Specialist
from analysts.prometheus import Reading

QUERIES = (
    Query(
        "p95_latency",
        "p95 LLM call latency",
        "histogram_quantile(0.95, sum by (le) (rate(gen_ai_client_operation_duration_seconds_bucket[5m])))",
        "s",
    ),
    Query(
        "ttft_p95",
        "p95 time to first token",
        "histogram_quantile(0.95, sum by (le) (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))",
        "s",
    ),
    Query(
        "error_ratio",
        "LLM call error ratio",
        'sum(rate(llm_sre_llm_calls_total{error_type!=""}[5m])) / sum(rate(llm_sre_llm_calls_total[5m]))',
    ),
    Query("app_errors", "application errors per second", "sum(rate(llm_sre_app_errors_total[5m]))", "/s"),
    Query(
        "memory_forecast",
        "container memory in 4 h as a share of its limit",
        "max by (name) (predict_linear(llm_sre_container_memory_working_set_bytes[1h], 14400)"
        " / (llm_sre_container_spec_memory_limit_bytes > 0))",
    ),
    Query("budget_left", "error budget remaining", "min(slo:period_error_budget_remaining:ratio)"),
)


def advise(r: dict[str, Reading]) -> list[Finding]:
    out = []
    if (p95 := r.get("p95_latency")) and p95.change and p95.change >= 1.5:
        ttft = r.get("ttft_p95")
        cause = (
            " Time to first token rose with it, so the model server (queueing, model loads) is the "
            "first place to look."
            if ttft and ttft.change and ttft.change >= 1.5
            else " Time to first token did not move with it: look at retrieval, reranking and output length."
        )
        out.append(
            Finding(
                f"{p95.text} (x{fmt(round(p95.change, 1))}).{cause}",
                "runbook sre-latency: compare TTFT, retrieval and output tokens before scaling.",
            )
        )
    if (err := r.get("error_ratio")) and err.now >= 0.05:
        out.append(Finding(f"{err.text}: above 5%.", "runbook sre-errors: group errors by error_type."))
    if (mem := r.get("memory_forecast")) and mem.now >= 1.0:
        out.append(
            Finding(
                f"{mem.text}: the linear trend reaches the limit within 4 hours.",
                "runbook sre-forecast: raise the limit or find the leak before the OOM kill.",
            )
        )
    if (budget := r.get("budget_left")) and budget.now < 0.25:
        out.append(
            Finding(
                f"{budget.text}: less than a quarter of the period's budget is left.",
                "runbook sre-forecast: freeze risky deploys until the burn rate falls.",
            )
        )
    return out


SRE = Specialist(
    name="sre",
    title="SRE analyst",
    keywords={
        r"\blatenc|\bp9[59]\b|\bp50\b|slow(?:er|ness)?\b|response time|\bttft\b|first token": 2.0,
        r"\berror (?:rate|ratio|budget)|\bslo\b|burn rate|availability|uptime|\b5\d\d\b": 2.0,
        r"forecast|predict|trend|run out|will (?:hit|reach|fill)|capacity|headroom|saturat": 1.5,
        r"\boom\b|memory (?:limit|usage|leak)|restart|crash|outage|down\b|incident|timeout": 1.0,
        r"deploy|rollback|regress": 1.0,
    },
    examples=(
        "why did p95 latency double since noon?",
        "is the error rate above our SLO?",
        "how much error budget is left this month?",
        "when will the api container run out of memory?",
        "what changed in response times after the deploy?",
        "are we going to breach the availability objective?",
        "which service is causing the timeouts?",
        "is time to first token getting worse?",
    ),
    queries=QUERIES,
    advise=advise,
    runbooks=("sre-latency", "sre-errors", "sre-forecast"),
)
