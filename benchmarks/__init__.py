"""Benchmarks: ``python -m benchmarks [--quick] [--json FILE]``. Scripts that print figures, never
timed assertions; see docs/performance.md for what they measure and the figures on record."""
