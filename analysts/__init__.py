"""Specialist analysts (SRE, security, efficiency) behind one orchestrator routing questions and alerts."""
