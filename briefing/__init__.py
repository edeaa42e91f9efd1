"""Proactive briefings: the daily digest, early warnings before the alert, and reports to Redis.

One engine, several outputs. :mod:`briefing.engine` is pure (series and incidents in, items out),
so ``llm-sre brief``, the scheduled digest, the between-digest watch and the hour-by-hour backtest
all run the same code on the same kind of input; gathering and publishing are thin shells.
"""
