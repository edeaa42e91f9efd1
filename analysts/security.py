"""The security analyst: access anomalies, credential stuffing, likely account compromise and
secrets seen in logs."""

from __future__ import annotations

from analysts.base import Finding, Query, Specialist
from analysts.prometheus import Reading

QUERIES = (
    Query(
        "stuffing",
        "credential-stuffing detections in the last hour",
        # A counter born at 1 (the first detection) has no increase(): count it as new, as the alert does.
        "sum by (shape) (increase(llm_sre_credential_stuffing_detections_total[1h]) > 0 or"
        " (llm_sre_credential_stuffing_detections_total unless"
        " llm_sre_credential_stuffing_detections_total offset 1h))",
    ),
    Query("failed_accounts", "distinct accounts with failed logins", "max(llm_sre_auth_failed_accounts)"),
    Query("failing_sources", "distinct sources with failed logins", "max(llm_sre_auth_failing_sources)"),
    Query(
        "failure_ratio",
        "login failure ratio",
        'sum(rate(llm_sre_auth_events_total{outcome="failure",kind="login"}[15m]))'
        ' / sum(rate(llm_sre_auth_events_total{kind="login"}[15m]))',
    ),
    Query(
        "denied",
        "401/403/429 application errors per second",
        'sum(rate(llm_sre_app_errors_total{error_code=~"401|403|429"}[15m]))',
        "/s",
    ),
    # The running total, not increase(): a counter born at 1 (the first secret) has no increase.
    Query(
        "secrets",
        "secrets masked in logs since the log exporter started",
        'sum by (service, kind) (label_replace(llm_sre_log_secrets_total, "service", "$1",'
        ' "exported_service", "(.+)"))',
    ),
)


def advise(r: dict[str, Reading]) -> list[Finding]:
    out = []
    if (hits := r.get("stuffing")) and hits.now > 0:
        shape = hits.series.removeprefix("shape=") or "stuffing"
        if shape == "compromise":
            out.append(
                Finding(
                    f"{hits.text}: a login succeeded right after a burst of failures or from an "
                    "attacking source.",
                    "runbook security-compromise: lock the account, revoke its sessions, reset "
                    "the password, review its recent actions.",
                )
            )
        else:
            out.append(
                Finding(
                    f"{hits.text}: the {shape.replace('_', ' ')} shape was detected.",
                    "runbook security-stuffing: rate-limit or challenge the login route for the "
                    "offending sources (GET /api/v1/security/detections lists them).",
                )
            )
    if (secrets := r.get("secrets")) and secrets.now > (secrets.before or 0):
        out.append(
            Finding(
                f"{secrets.text}: an application wrote a secret into its logs; it was masked "
                "before shipping, but the raw log files still hold it.",
                "runbook security-secrets: rotate the credential of that kind, remove it from the "
                "log statement, and purge or restrict the raw files and backups.",
            )
        )
    if (ratio := r.get("failure_ratio")) and ratio.now >= 0.5:
        out.append(
            Finding(
                f"{ratio.text}: most logins fail.",
                "runbook security-stuffing: compare with distinct accounts to tell an attack "
                "from an outage of the identity provider.",
            )
        )
    return out


SECURITY = Specialist(
    name="security",
    title="security analyst",
    keywords={
        r"credential|stuffing|brute.?force|password spray|spraying|account takeover|takeover": 3.0,
        r"\blogin|log.?in|sign.?in|\bauth|\b401\b|\b403\b|unauthori|forbidden|permission": 2.0,
        r"attack|attacker|malicious|suspicious|intrusion|breach|compromis|hack|\bbot(?:net)?s?\b": 2.0,
        r"\bsecret|api key|token leak|leaked|exposed|\bssh\b|sshd|\bip address|blocklist|\bwaf\b": 1.5,
        r"anomal|unusual access|access pattern|who is|security": 1.0,
    },
    examples=(
        "are we under a credential stuffing attack?",
        "why are there so many failed logins?",
        "was any account compromised after the brute force?",
        "which sources are trying many accounts?",
        "did a secret leak into the logs?",
        "is this spike of 401 responses an attack?",
        "unusual access pattern on the admin endpoint",
        "someone is spraying passwords over ssh",
    ),
    queries=QUERIES,
    advise=advise,
    runbooks=("security-stuffing", "security-compromise", "security-secrets"),
)
