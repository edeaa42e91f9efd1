# syntax=docker/dockerfile:1.7
# One image for both long-running llm-sre services (`llm-sre exporter`, `llm-sre serve`); the
# compose file picks the subcommand. Build: docker compose build (or docker build -t llm-sre .).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporters ./exporters
COPY alert_webhooks ./alert_webhooks
COPY llm_sre ./llm_sre
COPY clustering ./clustering
COPY analysts ./analysts
COPY security ./security
COPY operations ./operations
COPY briefing ./briefing
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LLM_SRE_DATA_DIR=/data
# /var/lib/llm-sre/grafana is where compose mounts the grafana-token volume: created here so a
# fresh named volume takes this owner.
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin llm-sre \
    && mkdir -p /data /var/lib/llm-sre/grafana /var/lib/llm-sre/log-state \
    && chown llm-sre /data /var/lib/llm-sre/grafana /var/lib/llm-sre/log-state
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

# Secrets arrive as files (docker compose secrets). For each VAR below, a non-empty file named by
# VAR_FILE becomes VAR for the process, the convention official images use; an empty file leaves
# VAR unset so optional sinks (Slack, Grafana) stay off. The settings modules read only VAR.
COPY --chmod=0755 <<'SCRIPT' /usr/local/bin/llm-sre-entrypoint
#!/bin/sh
set -eu
for var in LLM_SRE_WEBHOOK_TOKEN GRAFANA_TOKEN SLACK_BOT_TOKEN SLACK_WEBHOOK_URL; do
    file=$(printenv "${var}_FILE" || true)
    if [ -n "$file" ] && [ -s "$file" ]; then
        value=$(cat "$file")
        export "$var=$value"
    fi
    unset "${var}_FILE"
done
exec llm-sre "$@"
SCRIPT

USER llm-sre
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 9464
ENTRYPOINT ["llm-sre-entrypoint"]
CMD ["--help"]
