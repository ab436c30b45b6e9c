"""Routing policy: number normalization, resolution, cache and escalation rules (no transport code)."""
