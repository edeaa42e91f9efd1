"""Incident clustering: error and warning log events that point at one cause, grouped by meaning."""
