"""End-to-end benchmark: mtrun against pytest and pytest-xdist on the same generated suites.

Run with ``uv run --group bench python -m benchmarks.e2e`` (``--help`` for options). Each
suite is written twice, once as pytest tests and once as ``@dmark`` tasks, so every runner
does the same work; wall time includes interpreter start-up, collection and reporting,
because that is what a user waits for.
"""
