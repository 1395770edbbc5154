"""Sizes of the randomized tests: a quick size in the suite, the large one in a soak run.

``CUSTODES_SOAK=1 .venv/bin/pytest -n 2 tests/...`` runs the crash, kill and fuzz tests
at the sizes they were first written with (docs/RELIABILITY.md, "Soak runs"); the
default suite keeps every damage kind and every crash point, with fewer repetitions, so
it stays within about five minutes on two cores.
"""

from __future__ import annotations

import os

SOAK = os.environ.get("CUSTODES_SOAK", "").strip() not in ("", "0")


def size(quick: int, soak: int) -> int:
    """``soak`` under CUSTODES_SOAK=1, else ``quick``."""
    return soak if SOAK else quick
