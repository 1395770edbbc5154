"""kill -9 the real `custodes retention sweep` at random moments, again and again: a purge
is never recorded for a file that still exists, and the next complete run leaves every
segment's files and its FootagePurged event in agreement (R13-R15, issue 7).

Black-box: the sweep runs as the installed console script, on the system clock (R26); the
test looks only at the vault's files, the ledger's events and the chain. The footage was
recorded two months before today, so all of it is due; each run may purge only a few
segments more than the last (``--limit``), so every run has a little new work and a kill
can land anywhere in it: start-up, destroying, recording, exiting.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capture.ingest import ingest_paths, open_vault
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import open_chain, verify_chain
from tests.conftest import NOW, new_data_dir
from tests.identity import open_test_ledger
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger
from tests.soak import size

pytestmark = pytest.mark.heavy(seconds=20)  # started first (tests/conftest.py)

# In the suite: every kind of kill a few times; CUSTODES_SOAK=1: the original 20 kills.
KILLS = size(6, 20)
MIN_INTERRUPTED = size(2, 5)  # kills that left segments destroyed but not recorded
MIN_AFTER_RECORD = size(1, 2)  # kills after the run had recorded purges
MAX_RUNS = size(14, 32)  # runs that finish before their kill do not count as kills
NEW_PER_RUN = (2, 8)  # segments newly due at each run's clock
DUE = size(120, 200)  # enough for MAX_RUNS runs (5 new segments a run, on average)
# Where each kill is aimed, in turn: while destroying, after the last destroy (recording
# the purges, or exiting), at start-up (before the first destroy), while destroying again;
# so even a short run aims at every moment, in the proportions 1:2:1.
AIMS = ("destroying", "recording", "start-up", "destroying")


@dataclass(frozen=True)
class Site:
    data_dir: Path
    due: dict[str, str]  # segment id -> content sha256, in deadline order
    deadlines: list[datetime]  # of ``due``, in order
    kept: dict[str, str]  # flagged, held or not yet due: no run may touch them
    keys: Path  # the vault's key folder: a key file vanishes when a destroy begins


def _set_up(data_dir: Path, inbox: Path) -> Site:
    # Everything before the real sweeps happens well before today: the sweeps run on the
    # system clock, and recorded times only move forward.
    today = datetime.now(UTC)
    ledger = footage_ledger(data_dir, at=today - timedelta(days=90))
    clock = ledger.clock
    try:

        def ingest(first: int, count: int, now: datetime) -> list[str]:
            """Clips ``first``.. (distinct content), one every 10 minutes, ending before now."""
            start = now - timedelta(minutes=10 * (first + count))
            paths = [clip(inbox, n, start=start) for n in range(first, first + count)]
            clock.set(now)
            summary = ingest_paths(ledger, paths, camera=CAMERA, actor=STAFF)
            assert [o.status for o in summary.outcomes] == ["ingested"] * count
            return [o.segment_id or "" for o in summary.outcomes]

        due = ingest(0, DUE + 6, today - timedelta(days=60))
        flagged, held, due = due[-6:-3], due[-3:], due[:-6]
        for sid in flagged:
            ledger.flag(sid, incident="IR-1", reason="theft at the desk", actor=STAFF)
        ledger.place_hold(
            held,
            kind="law_enforcement_preservation",
            reason="preservation letter",
            reference="CPD 26-4411",
            actor=DIRECTOR,
        )
        recent = ingest(DUE + 6, 3, today - timedelta(days=1))  # not due for a month
        info = {sid: ledger.segment_info(sid) for sid in due + flagged + held + recent}
        keys = open_vault(ledger).key_path(info[due[0]].sha256).parent
    finally:
        ledger.close()
    due.sort(key=lambda sid: info[sid].retention_deadline)
    return Site(
        data_dir,
        {sid: info[sid].sha256 for sid in due},
        [info[sid].retention_deadline for sid in due],
        {sid: info[sid].sha256 for sid in flagged + held + recent},
        keys,
    )


def _sweep(site: Site, limit: int | None, stderr: Path) -> subprocess.Popen[bytes]:
    script = shutil.which("custodes", path=str(Path(sys.executable).parent))
    assert script, "the console script `custodes` is not installed"
    with open(stderr, "wb") as err:
        return subprocess.Popen(
            [script, "--data-dir", str(site.data_dir), "retention", "sweep", "--yes", "--json"]
            + ["--service"]
            + ([] if limit is None else ["--limit", str(limit)]),
            stdout=subprocess.PIPE,
            stderr=err,
        )


@dataclass(frozen=True)
class Observed:
    purged: dict[str, dict[str, Any]]  # segment id -> its FootagePurged details
    files: dict[str, tuple[bool, bool]]  # segment id -> (blob present, key present)

    def destroyed_unrecorded(self) -> set[str]:
        """Destroyed (in part or whole) but not recorded: a run stopped between the steps."""
        return {s for s, f in self.files.items() if f != (True, True) and s not in self.purged}


def _observe(site: Site, where: str) -> Observed:
    """Read events and files, and check what must hold at ANY moment."""
    everything = site.due | site.kept
    ledger = open_test_ledger(DataDir.open(site.data_dir), clock=ManualClock(NOW))
    try:
        purges = [e.details for e in ledger.read_log(kinds=["FootagePurged"])]
        vault = open_vault(ledger)
        files = {sid: (vault.has_blob(sha), vault.has_key(sha)) for sid, sha in everything.items()}
    finally:
        ledger.close()
    twice = [s for s, n in Counter(p["segment_id"] for p in purges).items() if n > 1]
    assert twice == [], f"{where}: segments purged twice: {twice}"
    purged = {p["segment_id"]: p for p in purges}
    for sid, p in purged.items():
        assert p["sha256"] == everything[sid], f"{where}: purge of {sid} names another file"
        # The sweep's promise: never an event for a file that still exists.
        assert files[sid] == (False, False), (
            f"{where}: segment {sid} is recorded purged but (blob, key) = {files[sid]}"
        )
    for sid in site.kept:
        assert files[sid] == (True, True) and sid not in purged, f"{where}: {sid} was touched"
    # The key goes before the blob: a blob without its key is the only half-destroyed state.
    assert all(f != (False, True) for f in files.values()), where
    verified = verify_chain(open_chain(DataDir.open(site.data_dir)))
    assert verified.ok, f"{where}: {verified.damage}"
    return Observed(purged, files)


@dataclass(frozen=True)
class Timing:
    """Of one whole run, measured before the kills: seconds from its start."""

    first_destroy: float
    last_destroy: float
    exited: float
    destroyed: int

    @property
    def per_destroy(self) -> float:
        return (self.last_destroy - self.first_destroy) / max(1, self.destroyed - 1) or 0.01


@dataclass(frozen=True)
class KillAt:
    """SIGKILL ``after_start`` seconds after the start; or, without it, ``then`` seconds
    after the run has destroyed ``destroyed`` segments (seen as key files vanishing)."""

    after_start: float | None = None
    destroyed: int = 0
    then: float = 0.0


def _run(site: Site, limit: int, stderr: Path, kill: KillAt | None) -> Timing | None:
    """Run the sweep to its end (its Timing) or until ``kill`` (None)."""
    before = len(os.listdir(site.keys))
    first = last = 0.0
    gone = 0
    started = time.monotonic()
    sweep = _sweep(site, limit, stderr)
    kill_at = None if kill is None or kill.after_start is None else started + kill.after_start
    try:
        # Poll, not sleep: the kill must land at an arbitrary moment, and the run may end.
        while sweep.poll() is None:
            now = time.monotonic()
            if (n := before - len(os.listdir(site.keys))) > gone:
                first, last, gone = first or now - started, now - started, n
            if kill is not None and kill_at is None and gone >= kill.destroyed:
                kill_at = now + kill.then
            if kill_at is not None and now >= kill_at:
                sweep.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        sweep.kill()  # no-op unless the test failed above
        sweep.communicate(timeout=60)
    if sweep.returncode == -signal.SIGKILL:
        return None
    assert sweep.returncode == 0, stderr.read_text()
    return Timing(first, last, time.monotonic() - started, gone)


def test_a_sweep_killed_at_random_moments_never_records_a_purge_of_a_file_that_exists(
    database_url: str, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(days=91)
    site = _set_up(new_data_dir(tmp_path / "data", database_url, at=start), tmp_path / "inbox")
    rng = random.Random(20260715)
    stderr = tmp_path / "sweep.stderr"
    due_now = NEW_PER_RUN[1]
    timing = _run(site, due_now, stderr, kill=None)
    assert timing is not None and timing.destroyed == due_now
    seen = _observe(site, "after the first run")
    assert set(seen.purged) == set(list(site.due)[:due_now])
    interrupted: set[str] = set()  # seen destroyed but unrecorded after some kill
    kills = runs = interrupting = after_record = 0

    while kills < KILLS or interrupting < MIN_INTERRUPTED or after_record < MIN_AFTER_RECORD:
        assert runs < MAX_RUNS, (
            f"{runs} runs gave only {kills} kills, {interrupting} between destroy and record "
            f"and {after_record} after a record"
        )
        runs += 1
        new = rng.randint(*NEW_PER_RUN)
        due_now += new
        aim = AIMS[(runs - 1) % len(AIMS)]
        if aim == "start-up":
            kill = KillAt(after_start=rng.uniform(0, timing.first_destroy))
        elif aim == "destroying":
            kill = KillAt(destroyed=rng.randint(1, new), then=rng.uniform(0, timing.per_destroy))
        else:  # recording or exiting: after its last destroy
            kill = KillAt(destroyed=new, then=rng.uniform(0, timing.exited - timing.last_destroy))
        # The first ``due_now`` segments by deadline: what a run at a later clock would see.
        finished = _run(site, due_now - len(seen.purged), stderr, kill)
        where = f"after run {runs} ({'finished' if finished else f'kill {kills + 1}'})"
        now_seen = _observe(site, where)
        if finished:
            assert now_seen.destroyed_unrecorded() == set(), where
            assert set(now_seen.purged) == set(list(site.due)[:due_now]), where
        else:
            kills += 1
            stopped = now_seen.destroyed_unrecorded()
            interrupting += bool(stopped - seen.destroyed_unrecorded())
            after_record += len(now_seen.purged) > len(seen.purged)
            interrupted |= stopped
        seen = now_seen

    final = _sweep(site, None, stderr)
    out, _ = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.read_text()
    statuses = Counter(o["status"] for o in json.loads(out)["outcomes"])
    assert set(statuses) <= {"purged", "completed"}, statuses
    assert statuses["completed"] == len(seen.destroyed_unrecorded())

    last = _observe(site, "after the final run")
    # After the next run, files and events agree: present if and only if not purged.
    for sid in site.due | site.kept:
        blob, key = last.files[sid]
        assert blob == key == (sid not in last.purged), (
            f"segment {sid}: (blob, key) = {last.files[sid]}, "
            f"purge event {'present' if sid in last.purged else 'absent'}"
        )
    assert set(last.purged) == set(site.due)
    # "Completed after interruption" exactly where a run was cut off between the steps.
    assert {s for s, p in last.purged.items() if p["completed_after_interruption"]} == interrupted
    print(
        f"{runs} runs, {kills} kills: {interrupting} between destroy and record "
        f"({len(interrupted)} segments), {after_record} after a record; first run: "
        f"{timing}"
    )
