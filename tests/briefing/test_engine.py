"""The pure parts, on values: forecasts, trends, ranking, specs, Slack blocks, the scheduler."""

from __future__ import annotations

import asyncio
import logging
import math
import random
from datetime import datetime

import pytest

from briefing.engine import Config, IncidentView, Inputs, brief, top_issues
from briefing.forecast import project, project_mean
from briefing.items import Missing
from briefing.markdown import deterministic_summary, render
from briefing.publish import slack_blocks
from briefing.series import Series
from briefing.specs import ADVICE, FORECASTS, TRENDS
from briefing.trends import compare
from llm_sre import rule_lint, rules_cli
from llm_sre.scheduler import Scheduler, parse_cron

DAY, HOUR, STEP = 86400.0, 3600.0, 300.0
T0 = 1_790_000_000.0


def _series(f, days: float = 2.0, seed: int = 0, labels: dict | None = None) -> Series:
    rng = random.Random(seed)
    times = [T0 + i * STEP for i in range(int(days * DAY / STEP) + 1)]
    values = tuple(f(t - T0) + rng.gauss(0, 0.005) for t in times)
    return Series(labels or {"name": "x"}, tuple(times), values)


def test_a_steady_leak_is_projected_to_its_limit() -> None:
    s = _series(lambda dt: 0.3 + 0.1 * dt / DAY)  # +10 points a day: 0.9 at day 6
    at = s.times[-1]
    p = project(s.times, s.values, 0.9, at)
    assert p is not None and abs(p.eta - (T0 + 6 * DAY)) < 2 * HOUR


@pytest.mark.parametrize("phase", [0.0, 0.25, 0.5, 0.75])
def test_a_daily_cycle_is_not_a_leak_whatever_the_hour(phase: float) -> None:
    s = _series(lambda dt: 0.6 + 0.2 * math.sin(2 * math.pi * (dt / DAY + phase)), days=3)
    for hour in range(0, 24, 3):
        at = s.times[-1] - hour * HOUR
        assert project(s.times, s.values, 0.9, at) is None, (phase, hour)


def test_flat_noise_and_too_little_data_give_no_projection() -> None:
    noise = _series(lambda dt: 0.5, seed=3)
    assert project(noise.times, noise.values, 0.9, noise.times[-1]) is None
    short = _series(lambda dt: 0.3 + dt / DAY, days=0.25)
    assert project(short.times, short.values, 0.9, short.times[-1]) is None


def test_a_trailing_mean_counts_the_recorded_past_and_projects_the_rest() -> None:
    # Burn rate 0.5 for two days, then rising 1 per day: the 3-day mean reaches 1 when
    # 1 * 3 = 2 * 0.5 ... solved numerically below against the same definition.
    s = _series(lambda dt: 0.5 + max(0.0, dt - 2 * DAY) / DAY, days=3)
    at = s.times[-1]
    p = project_mean(s.times, s.values, 1.0, at, 3 * DAY, 3 * DAY)
    assert p is not None
    # Ground truth from the same function continued past ``at``.
    future = _series(lambda dt: 0.5 + max(0.0, dt - 2 * DAY) / DAY, days=7)
    truth = next(t for t in future.times if t > at and future.mean(t - 3 * DAY, t) >= 1.0)
    assert abs(p.eta - truth) <= 0.1 * (truth - at)


def test_trends_compare_today_with_the_same_hours_of_previous_days() -> None:
    usual = _series(lambda dt: 0.93 if dt < 6 * DAY else 0.80, days=7)  # the cache hit rate fell today
    c = compare(usual, usual.times[-1], DAY)
    assert c is not None and c.days == 6 and c.z < -3
    assert compare(usual, T0 + 2 * DAY, DAY) is None  # fewer than three previous days: no "usual"


def test_brief_reports_a_falling_hit_rate_and_not_a_steady_one() -> None:
    labels = {"service": "app", "cache": "emb"}
    fell = _series(lambda dt: 0.93 if dt < 6 * DAY else 0.80, days=7, labels=labels)
    steady = _series(lambda dt: 0.93, days=7, labels={"service": "app", "cache": "other"})
    b = brief(Inputs(fell.times[-1], DAY, {"cache_hit_ratio": [fell, steady]}))
    (trend,) = b.trends
    assert trend.subject == "app/emb" and trend.direction == "down" and "80.0%" in trend.evidence.value


def test_top_issues_rank_by_severity_duration_and_repeats() -> None:
    end = T0 + DAY
    incidents = [
        IncidentView("ShortPage", "api", "critical", end - 600, end - 300),
        IncidentView("LongTicket", "db", "warning", end - 10 * HOUR, None),
        *[
            IncidentView("Flapping", "rag", "warning", end - h * HOUR, end - h * HOUR + 1800)
            for h in (2, 4, 6)
        ],
        IncidentView("Yesterday", "old", "critical", T0 - DAY, T0 - 1),  # outside the period
    ]
    ranked = top_issues(incidents, T0, end, 3)
    assert [i.alertname for i in ranked] == ["LongTicket", "Flapping", "ShortPage"]
    assert ranked[1].repeats == 3 and ranked[0].impact == 20.0


def test_nothing_wrong_is_one_line_and_an_outage_is_not_nothing() -> None:
    quiet = brief(Inputs(T0, DAY))
    assert deterministic_summary(quiet).startswith("Nothing needs attention")
    assert "##" not in render(quiet, deterministic_summary(quiet), "note")
    broken = brief(Inputs(T0, DAY, missing=[Missing("trends", "Prometheus unreachable (ConnectError)")]))
    assert "Missing" in deterministic_summary(broken)


def test_every_spec_reads_only_known_metrics() -> None:
    recorded = frozenset(r["record"] for p in rules_cli.rule_files()
                         for g in __import__("yaml").safe_load(p.read_text())["groups"]
                         for r in g["rules"] if "record" in r)  # fmt: skip
    exprs = [s.expr for s in (*TRENDS, *FORECASTS)] + [a.expr.replace("{period}", "1d") for a in ADVICE]
    problems = {e: rule_lint.expression_problems(e, recorded) for e in exprs}
    assert {e: p for e, p in problems.items() if p} == {}
    assert len({s.name for s in (*TRENDS, *FORECASTS)}) == len(TRENDS) + len(FORECASTS)  # names are keys


def test_slack_blocks_escape_control_sequences_and_respect_limits() -> None:
    blocks = slack_blocks("# Title\n\n**x** <!channel> " + "y" * 7000)
    assert len(blocks) >= 3 and all(len(b["text"]["text"]) <= 3000 for b in blocks)
    text = "".join(b["text"]["text"] for b in blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "*Title*" in text


def test_cron_is_validated_and_read_in_local_time() -> None:
    with pytest.raises(ValueError, match="invalid cron expression '61 8 \\* \\* \\*'"):
        parse_cron("61 8 * * *")
    trigger = parse_cron("30 8 * * *")
    nxt = trigger.get_next_fire_time(None, datetime.now(trigger.timezone))
    assert (nxt.hour, nxt.minute) == (8, 30) and nxt.tzinfo is not None


def test_scheduler_runs_jobs_and_survives_a_failing_one(caplog) -> None:
    ran: list[str] = []

    async def scenario() -> None:
        scheduler = Scheduler()

        async def ok() -> None:
            ran.append("ok")

        async def boom() -> None:
            raise RuntimeError("boom")

        scheduler.add_job("ok", "0 3 * * *", ok)
        scheduler.add_job("boom", "0 3 * * *", boom)
        scheduler.start()
        assert set(scheduler.jobs) == {"ok", "boom"} and scheduler.next_run("ok").hour == 3
        scheduler.trigger("boom")
        scheduler.trigger("ok")
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.02)  # the scheduler's own loop runs the jobs: yield to it
        await scheduler.stop()

    with caplog.at_level(logging.ERROR, logger="llm_sre.scheduler"):
        asyncio.run(scenario())
    assert ran == ["ok"]
    assert any("scheduled job boom failed" in r.getMessage() for r in caplog.records)
    with pytest.raises(KeyError):
        Scheduler().trigger("missing")


def test_config_lookback_covers_the_longest_trailing_mean() -> None:
    assert Config().lookback == 3 * DAY


def test_serve_schedules_the_briefing_jobs_in_its_lifespan(tmp_path, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from alert_webhooks.app import create_app
    from alert_webhooks.service import build_service
    from alert_webhooks.settings import Settings

    monkeypatch.setenv("LLM_SRE_REPORTS_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("LLM_SRE_BRIEF_DIGEST_CRON", "45 7 * * 1-5")
    settings = Settings(data_dir=tmp_path, prometheus_url="http://127.0.0.1:1", analyst_backend="none")
    app = create_app(settings, build_service(settings))
    with TestClient(app):
        scheduler = app.state.scheduler
        briefing = {"briefing-digest", "briefing-watch", "container-health"}
        assert briefing <= set(scheduler.jobs)
        digest = scheduler.next_run("briefing-digest")
        assert (digest.hour, digest.minute) == (7, 45) and digest.weekday() < 5
    monkeypatch.setenv("LLM_SRE_BRIEFINGS", "false")
    app = create_app(settings, build_service(settings))
    with TestClient(app):
        assert not briefing & set(app.state.scheduler.jobs)


def test_brief_commands_reject_bad_input_with_a_clear_message(capsys, tmp_path, monkeypatch) -> None:
    from llm_sre.cli import main

    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["brief", "--at", "2026-11-30T08:00:00"])  # no time zone
    assert exit_.value.code == 2 and "has no time zone" in capsys.readouterr().err
    assert main(["brief", "backtest"]) == 2
    assert "no Prometheus" in capsys.readouterr().err
    missing = tmp_path / "nope.yml"
    assert main(["brief", "backtest", "--prometheus", "http://127.0.0.1:1", "--rules", str(missing)]) == 2
    assert f"no such rule file: {missing}" in capsys.readouterr().err
