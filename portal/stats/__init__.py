"""Aggregate statistics that never expose a person (SPEC §5)."""
