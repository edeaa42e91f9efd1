"""Incident analysis: evidence, deterministic analyst, LLM refinement with grounding."""
