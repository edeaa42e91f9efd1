"""Numbers as the briefing prints them, in one place so the text and its evidence always agree
(the grounding check compares the model's numbers with the evidence's, character for character).
"""

from __future__ import annotations

from alert_webhooks.analysis.sources import fmt


def show(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    if unit == "seconds":
        return f"{value:.2f} s"
    return f"{fmt(round(value, 3))} {unit}".strip()


def duration(seconds: float) -> str:
    """``2 d 4 h``, ``3 h 20 min``, ``12 min``: how far away, at a glance."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"
