"""One real alert travels metric → Prometheus → Alertmanager → webhook → Slack + Grafana.

Everything is real except Slack and Grafana, which are local receivers speaking their wire
formats: the synthetic app is instrumented with the real library, Prometheus evaluates the
shipped rule, Alertmanager routes with the shipped config, and `llm-sre serve` runs as its own
process with the real slack-sdk and grafana-client.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_sre.demo import ALERT, DEMO_TIMINGS, run_scenario
from llm_sre.stack import Stack, StackOptions
from llm_sre.traffic import SyntheticTraffic
from tests.fakes import FakeGrafana, FakeSlackWebhook

GRAFANA_TOKEN = "glsa_e2eFakeServiceAccountToken_0123456789abcdef"

pytestmark = pytest.mark.e2e


@pytest.fixture
def delivered(tmp_path: Path):
    """Run the demo scenario against fake sinks; yield (slack, grafana, timeline, log)."""
    log: list[str] = []
    with FakeSlackWebhook() as slack, FakeGrafana(GRAFANA_TOKEN) as grafana:
        traffic = SyntheticTraffic().start("127.0.0.1", 0)
        opts = StackOptions(
            state_dir=tmp_path,
            prometheus_port=0,
            alertmanager_port=0,
            webhook_port=0,
            exporter_port=0,
            app_target=f"127.0.0.1:{traffic.port}",
            webhook_env={
                "SLACK_WEBHOOK_URL": f"{slack.url}/services/T000/B000/e2e",
                "GRAFANA_URL": grafana.url,
                "GRAFANA_TOKEN": GRAFANA_TOKEN,
                "OLLAMA_HOST": "http://127.0.0.1:9",  # nothing listens: the deterministic summary goes out
            },
            **DEMO_TIMINGS,
        )
        try:
            with Stack(opts) as stack:
                timeline = run_scenario(stack, traffic, log.append)
        finally:
            traffic.stop()
        yield slack, grafana, timeline, log


def test_one_message_and_one_annotation_then_resolution(delivered) -> None:
    slack, grafana, timeline, log = delivered
    assert list(timeline.events) == ["scraped", "firing", "delivered", "resolved"], log

    # The burst also burns the availability SLO's budget fast enough to page; that incident is
    # its own group. Here we follow the LLMErrorBurst incident.
    messages = [m for m in slack.messages if ALERT in m["text"]]
    firing = [m for m in messages if "resolved" not in m["text"].lower()]
    resolved = [m for m in messages if "resolved" in m["text"].lower()]
    assert len(firing) == 1, messages  # one message for the incident...
    assert len(resolved) == 1, messages  # ...and one resolved follow-up (incoming webhooks can't edit)
    assert timeline.incident["summary"].split(" [")[0] in str(firing[0])

    annotations = [a for a in grafana.annotations.values() if ALERT in a["tags"]]
    assert len(annotations) == 1, grafana.annotations
    (annotation,) = annotations
    assert ALERT in annotation["text"]
    assert {ALERT, "critical", "llm-app"} <= set(annotation["tags"])
    assert annotation["timeEnd"] > annotation["time"], annotation  # resolution closed the region
    creates = [r.body for r in grafana.requests if r.method == "POST" and ALERT in r.body["tags"]]
    assert len(creates) == 1
    assert set(creates[0]["tags"]) == set(annotation["tags"])  # the PATCH kept the tags
