"""How early the briefing engine flags slow problems, against a static-threshold baseline on the
same data in the same run.

    .venv/bin/python bench/briefing_backtest.py [--seeds 1 2 3] [--days 7]

Each seed is a different generated week (briefing/scenarios.py: leak rate, burn slope, cache decline,
start days and noise all drawn from the seed) backfilled into a real Prometheus with promtool; the
shipped alerting rules are replayed for when each alert fired. For every injected problem it prints
the lead before its alert and the ETA error of the first early warning (against when the projected
quantity really reached its limit), and the false early warnings per simulated day.

Baseline: the usual "warn before the alert" rule — a second, lower static threshold at 80% of each
limit (memory at 80% of the 90% alert level, the 3-day and 1-day burn rates at 80% of theirs) —
scored by the same code. The data is generated here, not recorded: see docs/briefings.md for what
that does and does not show.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from briefing.backfill import backfilled_prometheus
from briefing.backtest import Detection, Report, alerts_from_rules, crossing, detect, score
from briefing.engine import Config
from briefing.gather import HISTORY_DAYS, fetch_series
from briefing.prometheus import Prometheus
from briefing.scenarios import realistic_week
from briefing.series import Series, subject_of
from briefing.specs import FORECASTS
from llm_sre.rules_cli import rule_files

DAY, HOUR = 86400.0, 3600.0
PROBLEMS = {
    "leak": ("ContainerMemoryNearLimit", {"name": "chroma"}),
    "burn": ("LLMAvailabilityBudgetBurn", {"sloth_slo": "llm-availability"}),
    "cache": ("EmbeddingCacheBudgetBurn", {"sloth_slo": "embedding-cache-hit-rate"}),
}


def static_threshold(
    series: dict[str, list[Series]], start: float, end: float, share: float = 0.8
) -> list[Detection]:
    """Warn while a forecast quantity is above ``share`` of its limit (its trailing mean for SLOs)."""
    found = []
    at = start
    while at <= end:
        for spec in FORECASTS:
            for s in series.get(spec.name, ()):
                value = s.mean(at - spec.window, at) if spec.window else (s.last(at) or (0, None))[1]
                if value is not None and value >= share * spec.limit:
                    labels = {k: s.labels[k] for k in spec.labels if k in s.labels}
                    found.append(Detection(at, "early_warning", subject_of(spec.subject, s.labels), spec.name,
                                           labels, spec.alerts))  # fmt: skip
        at += HOUR
    return found


def per_problem(report: Report) -> dict[str, tuple[float | None, float | None]]:
    """problem -> (lead in hours before its first alert, ETA error of the first warning)."""
    out = {}
    for problem, (alertname, labels) in PROBLEMS.items():
        fired = [o for o in report.outcomes if o.alert.alertname == alertname
                 and all(o.alert.labels.get(k) == v for k, v in labels.items())]  # fmt: skip
        if not fired:
            out[problem] = (None, None)
            continue
        first = min(fired, key=lambda o: o.alert.at)
        episodes = [e for e in report.episodes if e.first.kind == "early_warning" and e.confirmed_by
                    and e.confirmed_by.alertname == alertname and e.eta_error is not None
                    and e.first.at < first.alert.at]  # fmt: skip
        error = min(episodes, key=lambda e: e.first.at).eta_error if episodes else None
        out[problem] = ((first.lead or 0) / HOUR if first.first else 0.0, error)
    return out


async def run(url: str, start: float, end: float) -> tuple[Report, Report, float]:
    prom, config = Prometheus(url, timeout=120), Config()
    history = max(DAY + HISTORY_DAYS * DAY, config.lookback)
    specs = [(s.name, s.expr) for s in (*config.trends, *config.forecasts)]
    series = await fetch_series(prom, specs, start - history, end, 300)
    fired = await alerts_from_rules(prom, rule_files(), start, end, 300)
    began = time.perf_counter()
    engine = score(
        detect(series, start, end, config), fired, start, end, truth=lambda d: crossing(series, config, d)
    )
    seconds = time.perf_counter() - began
    baseline = score(static_threshold(series, start, end), fired, start, end)
    return engine, baseline, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    leads: dict[str, list[tuple[float, float]]] = {p: [] for p in PROBLEMS}
    errors, false_engine, false_base = [], [], []
    for seed in args.seeds:
        end = time.time() // HOUR * HOUR - HOUR
        sc = realistic_week(end, days=args.days, seed=seed)
        recording = [p for p in rule_files() if p.parent.name == "generated" or p.name == "incidents.yml"]
        with tempfile.TemporaryDirectory() as tmp, backfilled_prometheus(
            sc.openmetrics, recording, sc.start, sc.end, Path(tmp), reads=[f.expr for f in FORECASTS]
        ) as url:  # fmt: skip
            engine, baseline, seconds = asyncio.run(run(url, sc.start + DAY, sc.end))
        ours, base = per_problem(engine), per_problem(baseline)
        print(f"seed {seed}: {sc.injected}")
        for problem in PROBLEMS:
            (lead, error), (base_lead, _) = ours[problem], base[problem]
            print(f"  {problem:5s} lead {lead if lead is not None else float('nan'):6.1f} h "
                  f"(static 80%: {base_lead if base_lead is not None else float('nan'):6.1f} h), "
                  f"first ETA error {error if error is not None else float('nan'):.0%}")  # fmt: skip
            if lead is not None and base_lead is not None:
                leads[problem].append((lead, base_lead))
            if error is not None:
                errors.append(error)
        false_engine.append(len(engine.false_warnings) / engine.days)
        false_base.append(len(baseline.false_warnings) / baseline.days)
        print(f"  false early warnings/day {false_engine[-1]:.2f} (static 80%: {false_base[-1]:.2f}); "
              f"engine time for {engine.days * 24:.0f} hourly briefings {seconds:.1f} s")  # fmt: skip
    print("\nsummary over seeds")
    for problem, pairs in leads.items():
        if pairs:
            ours, base = statistics.mean(p[0] for p in pairs), statistics.mean(p[1] for p in pairs)
            ratio = ours / base if base else float("inf")
            print(f"  {problem:5s} mean lead {ours:.1f} h vs static 80% {base:.1f} h (x{ratio:.2f})")
    if errors:
        print(f"  first-warning ETA error: median {statistics.median(errors):.0%}, max {max(errors):.0%}")
    print(f"  false early warnings/day: {statistics.mean(false_engine):.2f} vs static 80% "
          f"{statistics.mean(false_base):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
