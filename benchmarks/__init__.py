"""Benchmarks: threaded-order against what users would otherwise write.

Run with ``uv run --group bench python -m benchmarks`` (``--help`` for options). The
runners compared are ours, a hand-rolled ``graphlib`` + ``ThreadPoolExecutor`` loop, dask's
threaded scheduler and the original threaded-order from PyPI (in a throwaway venv).
"""
