"""The runbook's stack as moto state, for the demo, the examples, tests and benchmarks.

This package writes to (moto's) AWS and so lives apart from ``collectors``, which only read.
"""
