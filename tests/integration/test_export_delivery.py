"""An export is recorded only for a package that can be delivered, and delivered once it
is recorded (issue 14, findings 8 and 10), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from capture.export import (
    ExportIncomplete,
    discard_abandoned_exports,
    export_footage,
    finish_pending_exports,
)
from cli.main import custodes
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import InvalidInput
from ledger.evidence import verify_package
from tests.identity import CustodesRunner, open_test_ledger
from tests.integration.footage_helpers import DIRECTOR, footage_ledger, kinds
from tests.integration.test_export import LATER, _approved_request, _export, _segment


class Crash(Exception):
    """Stands for a crash (or a full disk) right after the export was recorded."""


def test_a_symlink_to_a_directory_as_the_target_is_refused_and_nothing_is_recorded(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    real = tmp_path / "elsewhere"
    real.mkdir()
    link = tmp_path / "evidence"
    link.symlink_to(real)
    before = kinds(ledger)
    with pytest.raises(InvalidInput, match=f"{link} is a symbolic link .*never writes through"):
        _export(ledger, [seg], ref, link)
    assert kinds(ledger) == before
    assert list(real.iterdir()) == [] and link.is_symlink()
    assert list(tmp_path.glob(".evidence.*")) == []

    # Through the command: one line, exit 1, still nothing recorded.
    ledger.close()
    result = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(data_dir), "footage", "export", seg, "--request", ref,
         "--to", str(link), "--as", DIRECTOR],
        obj=ManualClock(LATER),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "is a symbolic link" in result.stderr and "Traceback" not in result.output


def test_an_export_recorded_but_not_delivered_is_finished_by_the_next_run(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence"

    def crash(step: str) -> None:
        raise Crash(step)

    with pytest.raises(ExportIncomplete, match="recorded but its package could not be finished"):
        _export(ledger, [seg], ref, out, fail_at=crash)
    assert kinds(ledger).count("EvidenceExported") == 1
    assert out.is_dir() and list(out.iterdir()) == []  # reserved, not delivered
    assert data_dir.joinpath("exports", "pending").is_dir()

    assert ledger.datadir is not None
    ledger.clock.set(LATER + timedelta(minutes=5))
    (done,) = finish_pending_exports(ledger, ledger.datadir.signing_key(None))
    assert done.path == out and done.request_ref == ref
    report = verify_package(out)
    assert report.clips == 1
    assert kinds(ledger).count("EvidenceExported") == 1  # finished, not recorded again
    assert list(data_dir.joinpath("exports", "pending").iterdir()) == []
    assert list(tmp_path.glob(".evidence.*")) == []
    assert finish_pending_exports(ledger, ledger.datadir.signing_key(None)) == []


def test_a_package_is_private(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence"
    _export(ledger, [seg], ref, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for root, dirs, files in os.walk(out):
        for name in dirs:
            assert stat.S_IMODE(Path(root, name).stat().st_mode) == 0o700
        for name in files:
            assert stat.S_IMODE(Path(root, name).stat().st_mode) == 0o600, name


class TickingClock(ManualClock):
    """The system clock moves on between reads; so does this one (a second per read)."""

    def __call__(self) -> datetime:
        return self.advance(seconds=1)


def test_the_package_verifies_when_the_clock_moves_during_the_export(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    ledger.clock = TickingClock(LATER)
    out = tmp_path / "evidence"
    assert ledger.datadir is not None
    export_footage(
        ledger, [seg], request_ref=ref, to=out, actor=DIRECTOR, remote=False,
        signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    verify_package(out)  # the export's id commits to the time in the manifest


def _killed_while_built(
    ledger: Ledger, seg: str, ref: str, to: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """An export into ``to`` killed (-9) once its clips are written: the disk left as
    such a kill leaves it (the hidden directory beside ``to`` holding the plaintext
    clips, and the pending note if one was written). Returns that directory."""
    import shutil

    import capture.export

    assert ledger.datadir is not None
    pending = ledger.datadir.path / "exports" / "pending"
    kept = to.parent / f"{to.name}-as-killed"
    writing = capture.export._write_clips
    built: list[Path] = []

    def killed(*args, **kw):  # type: ignore[no-untyped-def]
        writing(*args, **kw)
        built.extend(to.parent.glob(f".{to.name}.*"))
        shutil.copytree(built[0], kept / "work")
        if pending.is_dir():
            shutil.copytree(pending, kept / "pending")
        raise KeyboardInterrupt

    monkeypatch.setattr(capture.export, "_write_clips", killed)
    with pytest.raises(KeyboardInterrupt):
        _export(ledger, [seg], ref, to)
    monkeypatch.undo()
    [work] = built
    shutil.copytree(kept / "work", work)
    if (kept / "pending").is_dir():
        shutil.copytree(kept / "pending", pending, dirs_exist_ok=True)
    return work


def test_a_package_killed_while_it_is_built_is_discarded_by_the_next_run(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red-team (redteam9): killed while the clips were decrypted into the hidden
    directory beside the target (before the pending note was written), an export left
    plaintext clips there that nothing recorded and nothing ever removed (R16b). The note
    naming the directory is written before the first clip, so the next run discards it."""
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    before = kinds(ledger)
    work = _killed_while_built(ledger, seg, ref, tmp_path / "evidence", monkeypatch)
    assert any(work.rglob("*.mp4"))  # plaintext clips outside the data directory
    assert ledger.datadir is not None
    assert finish_pending_exports(ledger, ledger.datadir.signing_key(None)) == []
    assert kinds(ledger) == before  # nothing was recorded
    assert not work.exists() or not any(work.rglob("*.mp4")), "the clips were left behind"


@pytest.mark.parametrize("folder", ["viewing", "footage", "keys"])
def test_a_package_inside_the_data_directorys_own_folders_is_refused(
    data_dir: Path, tmp_path: Path, folder: str
) -> None:
    """The sweep removes whatever viewing/ holds that no viewing recorded (R16b), and
    footage/ and keys/ are the vault's and the keys': evidence delivered there would be
    destroyed or mistaken for the ledger's own. Refused before anything is recorded."""
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    (data_dir / folder).mkdir(exist_ok=True)
    target = data_dir / folder / "evidence"
    before = kinds(ledger)
    with pytest.raises(InvalidInput, match=f"{target} is inside {data_dir / folder}, a folder"):
        _export(ledger, [seg], ref, target)
    assert kinds(ledger) == before
    assert not target.exists() and list((data_dir / folder).glob(".evidence.*")) == []
    _export(ledger, [seg], ref, data_dir / "evidence")  # the data directory itself: allowed
    assert kinds(ledger).count("EvidenceExported") == 1


def test_an_export_from_an_ssh_session_is_a_remote_viewing(data_dir: Path, tmp_path: Path) -> None:
    """An export decrypts each clip: it is a viewing of archived footage (R16), and Policy
    V-B keeps the log "for remote access and viewing". `footage view` over SSH was
    recorded as remote; `footage export` over SSH was recorded as not remote."""
    ledger = footage_ledger(data_dir)
    segs = [_segment(ledger, tmp_path)]
    ref = _approved_request(ledger, segs)
    ledger.close()
    runner = CustodesRunner()
    ssh = {"SSH_CONNECTION": "203.0.113.7 50022 192.0.2.10 22", "SSH_CLIENT": None}
    exported = runner.invoke(
        custodes,
        ["--data-dir", str(data_dir), "footage", "export", *segs, "--request", ref,
         "--to", str(tmp_path / "evidence"), "--as", DIRECTOR],
        obj=ManualClock(LATER), env=ssh,
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    day = f"{LATER:%Y-%m-%d}"
    log = runner.invoke(
        custodes,
        ["--data-dir", str(data_dir), "report", "access", "--from", day, "--to", day,
         "--json", "--as", DIRECTOR],
        obj=ManualClock(LATER + timedelta(hours=1)),
    )  # fmt: skip
    assert log.exit_code == 0, log.output
    viewings = json.loads(log.stdout)["viewings"]
    assert [(v["kind"], v["remote"]) for v in viewings] == [("export", True)]


def test_an_export_under_way_is_left_to_its_own_process(data_dir: Path, tmp_path: Path) -> None:
    """A second export run (the dashboard's, another Director's) while one is building or
    finishing: it discarded the other's note and its clips as a crash's leftovers, or
    finished its package under it; once recorded, the export could then never be
    delivered. Now each export holds a lock on its note, and another run leaves it alone.
    The other run here is a second ledger in this process: ``flock`` locks belong to the
    open file, so it conflicts as another process would."""
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    other = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    assert other.datadir is not None
    key = other.datadir.signing_key(None)
    notes = data_dir / "exports" / "pending"
    seen: list[tuple[str, int, list[object]]] = []

    def meanwhile(step: str) -> None:  # the other run, at each step of this export
        seen.append((step, len(list(notes.glob("*.json"))), finish_pending_exports(other, key)))

    out = tmp_path / "evidence"
    _export(ledger, [seg], ref, out, progress=meanwhile, fail_at=meanwhile)
    assert [(step, n, done) for step, n, done in seen] == [(seg, 1, []), ("recorded", 1, [])]
    verify_package(out)  # delivered whole by its own process
    assert kinds(ledger).count("EvidenceExported") == 1
    assert list(notes.iterdir()) == []  # the note and its lock are gone
    other.close()


def test_the_sweep_removes_the_clips_of_an_export_killed_while_built(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clips of an export killed while it was built (plaintext beside its target,
    R16b) waited for the next command-line export, which might be weeks away; the
    nightly sweep now removes them (it needs no signing key for that), and names a
    recorded export still to be delivered without touching it."""
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    work = _killed_while_built(ledger, seg, ref, tmp_path / "killed", monkeypatch)
    assert any(work.rglob("*.mp4"))

    def crash(step: str) -> None:
        raise Crash(step)

    with pytest.raises(ExportIncomplete):  # recorded, not delivered: the sweep leaves it
        _export(ledger, [seg], ref, tmp_path / "recorded", fail_at=crash)
    ledger.close()
    runner = CustodesRunner()

    def sweep(*extra: str) -> str:
        result = runner.invoke(
            custodes, ["--data-dir", str(data_dir), "retention", "sweep", "--service", *extra],
            obj=ManualClock(LATER + timedelta(hours=1)),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return result.stderr

    said = sweep("--dry-run")
    assert f"export: would remove {work}, the clips of an export that was never recorded" in said
    assert work.is_dir()
    said = sweep("--yes")
    assert f"export: removed {work}, the clips of an export" in said
    assert f"the export for {ref} is recorded but not delivered" in said
    assert not work.exists()
    assert len(list((data_dir / "exports" / "pending").glob("*.json"))) == 1  # the recorded one
    assert (tmp_path / "recorded").is_dir()


def test_a_note_edited_to_name_another_folder_never_has_it_removed(
    data_dir: Path, tmp_path: Path
) -> None:
    """The nightly sweep acts on pending notes unattended: one edited to name any folder
    as its temporary directory would have had that folder deleted. Only a directory
    named as an export names its own (``.<target>.<random>.export`` beside the target)
    is removed; the note goes either way."""
    ledger = footage_ledger(data_dir)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "minutes.txt").write_text("board minutes")
    pending = data_dir / "exports" / "pending"
    pending.mkdir(parents=True, exist_ok=True)
    forged = {"format": "custodes-pending-export/1", "building": True,
              "work": str(precious), "target": str(tmp_path / "evidence")}  # fmt: skip
    (pending / "forged.json").write_text(json.dumps(forged))
    discard_abandoned_exports(ledger)
    assert (precious / "minutes.txt").read_text() == "board minutes"
    assert list(pending.glob("*.json")) == []
