"""This host's time since boot: a second clock on one machine, for the retention sweep
(R26, R13).

On SQLite there is no database server to ask the time, and a sweep run by a clock set
ahead destroys footage early with nothing left to show it once real time passes its
recorded time (an outside review, session 18, with ``faketime +11d``). The kernel's
time since boot (``/proc/uptime``) does not move when the wall clock is set, stepped or
faked for one process, so each sweep keeps in the data directory the wall time it ran at
beside the time since boot (``ANCHOR``), and the next sweep in the same boot expects the
wall clock to have moved as much as the time since boot did, within the clocks' two
minutes and twice what NTP may slew. A reboot, or a host without ``/proc``, leaves
nothing to compare with. The file is the data directory's like its keys: whoever can
delete it can also delete footage, which the sweep's audit reports.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ANCHOR = "clock.anchor"
DRIFT = 0.001  # 1,000 ppm: twice the most NTP slews a clock
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
UPTIME = Path("/proc/uptime")

Reading = tuple[str, float]  # (boot id, seconds since boot)


def since_boot() -> Reading | None:
    """This boot's id and the seconds since it (Linux); None where they cannot be read."""
    try:
        return BOOT_ID.read_text().strip(), float(UPTIME.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def expected_now(path: Path, reading: Reading) -> tuple[datetime, timedelta] | None:
    """The wall time the anchor at ``path`` expects now (its wall time plus the time since
    boot elapsed since), and how far two honest clocks may differ by then; None when
    there is no anchor of this boot to compare with."""
    try:
        kept = json.loads(path.read_text())
        if kept["boot_id"] != reading[0]:
            return None
        elapsed = timedelta(seconds=reading[1] - float(kept["uptime"]))
        wall = datetime.fromisoformat(kept["wall"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if elapsed < timedelta(0):
        return None
    return wall + elapsed, elapsed * DRIFT


def keep(path: Path, reading: Reading, now: datetime) -> None:
    """Keep ``now`` beside the time since boot for the next sweep (0600, atomically)."""
    data = json.dumps({"boot_id": reading[0], "uptime": reading[1], "wall": now.isoformat()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clock-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def disagreement(
    path: Path,
    now: datetime,
    tolerance: timedelta,
    read: Callable[[], Reading | None] | None = None,
) -> datetime | None:
    """The wall time the anchor expects when ``now`` differs from it by more than
    ``tolerance`` (and the drift allowed); else None, and ``now`` is kept as the anchor.
    ``read``: the time since boot (default ``since_boot``)."""
    reading = (read or since_boot)()
    if reading is None:
        return None
    expected = expected_now(path, reading)
    if expected is not None and abs(now - expected[0]) > tolerance + expected[1]:
        return expected[0]
    keep(path, reading, now)
    return None
