"""``llm-sre demo``: one real alert from metric to Slack/Grafana, narrated as it happens.

The scenario is shared with the end-to-end test (``run_scenario``), so what the README promises
is exactly what CI checks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alert_webhooks.settings import Settings
from llm_sre import processes
from llm_sre.stack import Stack, StackOptions, add_port_options
from llm_sre.traffic import SyntheticTraffic

ALERT = "LLMErrorBurst"
FAILURE_RATIO = 0.6

# Fast loop for a demo that ends in under three minutes; the rules themselves are the shipped ones.
DEMO_TIMINGS = {
    "scrape_interval": "1s",
    "evaluation_interval": "1s",
    "group_wait": "1s",
    "group_interval": "5s",
}


@dataclass
class Timeline:
    """Seconds since the scenario started at which each milestone was seen."""

    events: dict[str, float] = field(default_factory=dict)
    incident: dict[str, Any] = field(default_factory=dict)


def _get_json(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as resp:
        return json.load(resp)


def _alert_state(stack: Stack) -> str | None:
    """The LLMErrorBurst state Alertmanager holds: 'active', 'suppressed', or None."""
    query = urllib.parse.urlencode({"filter": f'alertname="{ALERT}"', "active": "true"})
    alerts = _get_json(f"{stack.url('alertmanager')}/api/v2/alerts?{query}")
    return alerts[0]["status"]["state"] if alerts else None


def _incident(stack: Stack, status: str) -> dict[str, Any] | None:
    """The webhook service's incident for the demo alert once it has reached ``status``."""
    query = urllib.parse.urlencode({"alertname": ALERT})
    page = _get_json(f"{stack.url('webhook')}/api/v1/incidents?{query}", stack.token)  # reads need it
    for item in page["items"]:
        if item["status"] == status and item.get("delivered"):
            return item
    return None


def run_scenario(
    stack: Stack, traffic: SyntheticTraffic, say: Callable[[str], None], deadline: float = 170.0
) -> Timeline:
    """Healthy traffic → failure burst → alert fires → summary delivered → failures stop → resolved."""
    start, timeline = time.monotonic(), Timeline()

    def until(what: str, predicate: Callable[[], Any]) -> Any:
        value = processes.wait_until(predicate, deadline - (time.monotonic() - start), 0.5, what)
        timeline.events[what] = round(time.monotonic() - start, 1)
        return value

    say("· healthy traffic: 20 LLM calls/s to qwen2.5:7b")
    until(
        "scraped",
        lambda: _get_json(f"{stack.url('prometheus')}/api/v1/query?query=llm_sre_llm_calls_total")["data"][
            "result"
        ],
    )
    say(f"· injecting a failure burst: {FAILURE_RATIO:.0%} of calls time out")
    traffic.failure_ratio = FAILURE_RATIO
    until("firing", lambda: _alert_state(stack) == "active")
    say(f"🔥 {ALERT} is firing in Alertmanager (t={timeline.events['firing']}s)")
    timeline.incident = until("delivered", lambda: _incident(stack, "firing"))
    say(f"✉ incident delivered (t={timeline.events['delivered']}s): {timeline.incident['summary']}")
    for sink in timeline.incident["deliveries"]:
        say(f"    → {sink['sink']}: {sink['ref'] or 'sent'}")
    traffic.failure_ratio = 0.0
    say("· failures stopped; waiting for the 1m error window to clear")
    timeline.incident = until("resolved", lambda: _incident(stack, "resolved"))
    say(f"✅ {ALERT} resolved and delivered (t={timeline.events['resolved']}s)")
    return timeline


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings()
    traffic = SyntheticTraffic()
    try:
        traffic.start("127.0.0.1", 0)
        opts = StackOptions(
            state_dir=settings.data_dir / "demo",
            app_target=f"127.0.0.1:{traffic.port}",
            prometheus_port=args.prometheus_port,
            alertmanager_port=args.alertmanager_port,
            webhook_port=args.webhook_port,
            exporter_port=args.exporter_port,
            **DEMO_TIMINGS,
        )
        with Stack(opts) as stack:
            print("llm-sre demo: stack is up")
            for name, url in stack.urls.items():
                print(f"  {name:<13} {url}")
            timeline = run_scenario(stack, traffic, print)
            outbox = Path(opts.state_dir) / "outbox.jsonl"
            if outbox.exists():
                print(f"  (no Slack/Grafana configured: messages are in {outbox})")
            print(f"demo finished in {max(timeline.events.values()):.0f}s")
        return 0
    except (processes.MissingBinary, RuntimeError, ValueError, TimeoutError) as exc:
        print(f"llm-sre demo: {exc}", file=sys.stderr)
        return 1
    finally:
        traffic.stop()


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="run the stack, inject an LLM failure burst and watch the alert travel to Slack/Grafana",
        description="Starts `llm-sre up` with fast intervals, sends synthetic LLM traffic with an "
        "injected failure burst, and prints the alert firing, the summary delivered and the resolution. "
        "Set SLACK_WEBHOOK_URL / GRAFANA_URL+GRAFANA_TOKEN to deliver for real; otherwise the outbox "
        "file under the data dir receives what would have been sent.",
    )
    add_port_options(demo)
    demo.set_defaults(func=_cmd_demo)
