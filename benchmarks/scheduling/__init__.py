"""Scheduling benchmark: critical-path-first order and CI shards, measured on real runs.

Run with ``uv run --group bench python -m benchmarks.scheduling`` (``--help`` for options).
A seeded suite with skewed sleep durations and chains inside its modules is written twice,
as ``@dmark`` tasks and as plain pytest tests, and run by mtrun (no history, with history,
registration order), by pytest-xdist, and in shards.
"""
