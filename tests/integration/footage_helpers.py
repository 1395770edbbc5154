"""Shared set-up for the footage tests: a ledger with staff, a camera and tiny clips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from capture.synthetic import write_clip
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW, SETUP
from tests.identity import enrol, open_test_ledger

DIRECTOR = "Dana Director"
MANAGER = "Bo Manager"
STAFF = "Sam Staff"
CAMERA = "lobby-1"
REC = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def footage_ledger(data_dir: Path, *, at: datetime | None = None) -> Ledger:
    """Staff and a camera, recorded at ``at`` (default: when the library was set up) by a
    ledger on a ManualClock, which then reads NOW (unless ``at`` was given)."""
    ledger = open_test_ledger(
        DataDir.open(data_dir), clock=ManualClock(at or SETUP + timedelta(hours=1))
    )
    enrol(ledger, MANAGER, "business_manager", actor=DIRECTOR)
    enrol(ledger, STAFF, "staff", actor=DIRECTOR)
    ledger.register_camera(
        CAMERA, location="Main lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    if at is None:
        ledger.clock.set(NOW)
    return ledger


def clip(folder: Path, n: int = 0, *, audio: bool = False, start: datetime = REC) -> Path:
    """A 1 s, 5 fps, 160x120 clip named with its recording start."""
    when = start + timedelta(minutes=10 * n)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{CAMERA}_{when:%Y%m%dT%H%M%SZ}.mp4"
    return write_clip(path, seconds=1, fps=5, size=(160, 120), start=when, seed=n, with_audio=audio)


def kinds(ledger: Ledger, start: int = 1) -> list[str]:
    return [e.kind for e in ledger.read_log(start=start)]


def last_id(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0
