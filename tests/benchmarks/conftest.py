"""The benchmarks package lives at the repository's root and is not installed: put the
root on the import path before these tests import it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
