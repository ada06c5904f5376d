"""``python -m benchmarks.scheduling``."""

from .cli import main

main()
