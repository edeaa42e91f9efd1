"""Credential-stuffing detection: precision and recall per labelled window of a synthetic auth log.

    .venv/bin/python bench/credstuffing.py [--seeds 5]

Log: ``bench/authlog.py`` (12 h of ordinary logins plus attack and benign windows, in JSON, nginx
and sshd form). Detector: the shipped :class:`security.detector.Detector` with default thresholds
and the load generator on the allow-list, fed through :func:`security.events.parse_auth`.
A detection inside an attack window (plus one detection window of slack) is a true positive; any
other detection is a false positive, and those inside benign windows are listed. Baseline in the
same run: "alert when one source has >= 10 failures in 10 minutes" (a typical fail2ban-style rule).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from authlog import LOAD_TEST_SOURCE, Window, generate

from security.detector import Detector, Thresholds
from security.events import parse_auth


def baseline(events: list) -> list[tuple[float, str]]:
    """One source with >= 10 failures in 10 minutes (reported once per source per window)."""
    recent: dict[str, deque] = {}
    last: dict[str, float] = {}
    out = []
    for ev in events:
        if ev.outcome != "failure" or ev.kind != "login":
            continue
        q = recent.setdefault(ev.source, deque())
        q.append(ev.ts)
        while q[0] < ev.ts - 600:
            q.popleft()
        if len(q) >= 10 and ev.ts - last.get(ev.source, -1e18) > 600:
            last[ev.source] = ev.ts
            out.append((ev.ts, "baseline"))
    return out


def judge(found: list[tuple[float, str]], windows: list[Window], slack: float) -> dict:
    attacks = [w for w in windows if w.attack]
    caught = {w.kind + str(w.start): False for w in attacks}
    tp = fp = 0
    benign_hits: Counter = Counter()
    for ts, shape in found:
        inside = [w for w in attacks if w.start <= ts <= w.end + slack]
        hit = next((w for w in inside if w.kind == shape), inside[0] if inside else None)
        if hit:
            tp += 1
            caught[hit.kind + str(hit.start)] = True
        else:
            fp += 1
            for w in windows:
                if not w.attack and w.start <= ts <= w.end + slack:
                    benign_hits[w.kind] += 1
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": sum(caught.values()) / len(caught),
        "windows": f"{sum(caught.values())}/{len(caught)}",
        "fp": fp,
        "benign": dict(benign_hits),
        "missed": [k for k, v in caught.items() if not v],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    print(
        f"{'seed':>4} {'detector':<10} {'precision':>9} {'recall':>7} {'windows':>8} {'FP':>4}  benign hits"
    )
    for seed in range(1, args.seeds + 1):
        lines, windows = generate(seed)
        events = sorted((e for line in lines if (e := parse_auth(line, year=2026))), key=lambda e: e.ts)
        t = Thresholds()
        det = Detector(t, allow=[LOAD_TEST_SOURCE])
        ours = [(d.ts, d.shape) for ev in events for d in det.feed(ev)]
        for name, found in (("llm-sre", ours), ("baseline", baseline(events))):
            r = judge(found, windows, t.window)
            print(
                f"{seed:>4} {name:<10} {r['precision']:>9.3f} {r['recall']:>7.3f} {r['windows']:>8} "
                f"{r['fp']:>4}  {r['benign'] or '-'}" + (f"  missed {r['missed']}" if r["missed"] else "")
            )
        shapes = Counter(shape for _, shape in ours)
        print(f"     shapes detected: {dict(shapes)}; lines {len(lines)}, auth events {len(events)}")


if __name__ == "__main__":
    main()
