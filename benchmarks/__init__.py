"""Benchmarks (scripts run by path; a package so tests and mypy name their modules one way)."""
