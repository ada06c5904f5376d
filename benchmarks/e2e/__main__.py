"""``python -m benchmarks.e2e``."""

from .cli import main

main()
