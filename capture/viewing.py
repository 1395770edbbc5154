"""Viewing footage (R16, R16a, R16b): check, decrypt a copy (or a still), then record it.

The policy check comes first and a refused attempt is recorded. The decrypted copy (or
still) is made next, privately in ``viewing/``; the ``FootageViewed`` event is recorded,
naming the copy and the end of its viewing session (``COPY_SESSION``); only then is the
copy put where the viewer asked. A viewer killed, or kept waiting for the database's
lock, before the record leaves the plaintext in ``viewing/`` only, a stray the sweep
removes and reports: no one holds a copy the access log does not show.

Every copy is tracked (R16b): ``end_viewing`` destroys a segment's copies when the
viewer is done; the retention sweep destroys copies whose session has ended and every
copy of a segment before purging it, and removes any file in ``viewing/`` the ledger
does not hold as a live copy (a stray); ``custodes verify`` reports strays.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from capture.vault import Vault, open_vault
from ledger.app import Ledger
from ledger.errors import InvalidInput
from ledger.footage_commands import COPY_DESTROYERS, ViewPermit
from ledger.outfiles import PRIVATE, check_destination, staged
from ledger.rules import FOOTAGE_VIEWING_COPY


@dataclass(frozen=True)
class ViewResult:
    segment_id: str
    path: Path
    archived: bool
    until: datetime | None = None  # when the copy is destroyed at the latest


# A viewing session: how long a decrypted copy may live before the sweep destroys it.
COPY_SESSION = timedelta(hours=2)


class TrackedCopy(Protocol):
    """A live viewing copy as the access read model lists it (``CopyRow``)."""

    @property
    def path(self) -> str: ...

    @property
    def segment_id(self) -> str: ...

    @property
    def until(self) -> datetime: ...


def viewing_dir(ledger: Ledger) -> Path:
    assert ledger.datadir is not None
    path = ledger.datadir.path / "viewing"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


T = TypeVar("T")


@dataclass(frozen=True)
class Played(Generic[T]):
    """A viewing made in memory (``play_segment``): what ``render`` made of the clip."""

    segment_id: str
    archived: bool
    media: T


@dataclass(frozen=True)
class _Made(Generic[T]):
    """What a viewing made of the decrypted clip, and what its event records of it."""

    made: T
    copy_path: str | None = None
    copy_until: datetime | None = None


def _viewing(
    session: Callable[[], AbstractContextManager[Ledger]],
    segment_id: str,
    *,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    not_staff_monitoring: str | None,
    make: Callable[[Vault, ViewPermit], _Made[T]],
    undo: Callable[[T], None] = lambda _made: None,
) -> tuple[ViewPermit, _Made[T]]:
    """The viewing sequence every way of viewing takes (R16, R16a, R16b): the policy
    check (``check_viewing``; a refusal recorded), then ``make`` with the vault (a copy
    on disk, or a clip in memory), then the ``FootageViewed`` event; if recording fails,
    ``undo`` removes what was made. ``session()`` gives the ledger for one step: it is
    entered for the check and for the record only, so ``make`` runs outside it."""
    with session() as ledger:
        permit = ledger.check_viewing(
            segment_id, reason=reason, purpose=purpose, actor=actor,
            not_staff_monitoring=not_staff_monitoring,
        )  # fmt: skip
        vault = open_vault(ledger)
    made = make(vault, permit)
    try:
        with session() as ledger:
            ledger.record_viewing(
                permit, kind="view", remote=remote, copy_path=made.copy_path,
                copy_until=made.copy_until,
            )  # fmt: skip
    except BaseException:
        undo(made.made)
        raise
    return permit, made


def view_segment(
    ledger: Ledger,
    segment_id: str,
    *,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    out: Path | None = None,
    force: bool = False,
    not_staff_monitoring: str | None = None,
) -> ViewResult:
    """Decrypt a viewing copy (0600, never through a symbolic link, never over a file
    without ``force``): decrypted privately in ``viewing/``, the viewing and the copy
    recorded, and only then the copy put in place; if recording fails no copy is left
    (R16). The copy is destroyed by ``end_viewing``, or by the sweep after its session."""
    now = ledger.clock()
    permit = ledger.check_viewing(
        segment_id, reason=reason, purpose=purpose, actor=actor,
        not_staff_monitoring=not_staff_monitoring,
    )  # fmt: skip
    seg = permit.segment
    target = check_destination(
        Path(out) if out else _free_name(viewing_dir(ledger), seg.segment_id, now, seg.media),
        force=force,
        viewing_copy=True,
    )
    made = _private(ledger, "view", seg.media)
    until = now + COPY_SESSION
    try:
        open_vault(ledger).decrypt_to(seg.sha256, made)
        ledger.record_viewing(
            permit, kind="view", remote=remote, copy_path=_tracked(target), copy_until=until
        )
        _put(made, target, force=force)
    finally:
        made.unlink(missing_ok=True)
    return ViewResult(seg.segment_id, target, permit.archived, until)


def play_segment(
    session: Callable[[], AbstractContextManager[Ledger]],
    segment_id: str,
    *,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    render: Callable[[bytes, str], T],
    not_staff_monitoring: str | None = None,
) -> Played[T]:
    """View a segment without a copy on disk (the web dashboard): ``view_segment``'s
    sequence (the same check, the Director's "not staff monitoring" note, the same
    ``FootageViewed`` event, without a copy to track), the clip decrypted in memory and
    given to ``render`` (e.g. transcoded for a browser). ``session()`` is entered for the
    check and for the record only: the decryption and ``render`` run outside it, so a
    server holding a lock in it does not hold it while transcoding. If recording fails,
    the caller never gets the clip."""

    def clip(vault: Vault, permit: ViewPermit) -> _Made[T]:
        seg = permit.segment
        return _Made(render(vault.decrypt_bytes(seg.sha256), seg.segment_id))

    permit, made = _viewing(
        session, segment_id, reason=reason, purpose=purpose, remote=remote, actor=actor,
        not_staff_monitoring=not_staff_monitoring, make=clip,
    )  # fmt: skip
    return Played(permit.segment.segment_id, permit.archived, made.made)


def check_frame_time(at_seconds: float) -> float:
    """A time into a clip: a finite number of seconds, not negative."""
    if not math.isfinite(at_seconds) or at_seconds < 0:
        raise InvalidInput(
            f"--at {at_seconds}: give the time into the clip as seconds, a number from 0 "
            "(e.g. --at 12.5); nothing was recorded"
        )
    return at_seconds


def frame_of_segment(
    ledger: Ledger,
    segment_id: str,
    *,
    at_seconds: float,
    out_png: Path,
    reason: str,
    purpose: str,
    remote: bool,
    actor: str,
    force: bool = False,
    not_staff_monitoring: str | None = None,
) -> ViewResult:
    """Save one still (PNG, 0600, by the rules of ``ledger.outfiles``), then record the
    viewing; if recording fails the still goes. A still is a tracked copy like a clip."""
    now = ledger.clock()
    check_frame_time(at_seconds)
    out_png = Path(out_png)
    if out_png.suffix.lower() != ".png":
        raise InvalidInput(f"{out_png}: a still is written as PNG; end the name in .png")
    check_destination(out_png, force=force, viewing_copy=True)
    permit = ledger.check_viewing(
        segment_id, reason=reason, purpose=purpose, actor=actor,
        not_staff_monitoring=not_staff_monitoring, action="footage frame",
    )  # fmt: skip
    seg = permit.segment
    clip = _private(ledger, "frame", seg.media)
    still = _private(ledger, "still", {}, suffix=".png")
    # Here, not at the top: the video decoders' import (cv2) is paid by the commands that
    # decode, not by ``verify``'s audit of stray copies or the sweep.
    from capture.redact import extract_frame

    until = now + COPY_SESSION
    try:
        open_vault(ledger).decrypt_to(seg.sha256, clip)
        extract_frame(clip, at_seconds, still, name=f"segment {seg.segment_id}")
        clip.unlink()
        ledger.record_viewing(
            permit, kind="frame", remote=remote, at_seconds=at_seconds,
            copy_path=_tracked(out_png), copy_until=until,
        )  # fmt: skip
        _put(still, out_png, force=force)
    finally:
        clip.unlink(missing_ok=True)
        still.unlink(missing_ok=True)
    return ViewResult(seg.segment_id, out_png, permit.archived, until)


def _free_name(folder: Path, segment_id: str, now: datetime, media: dict[str, object]) -> Path:
    """A viewing copy's default name in ``viewing/``: the segment and the time, with
    "-2", "-3", ... when that name is taken (two viewings of one segment in one second)."""
    stem, suffix = f"{segment_id}-{now:%Y%m%dT%H%M%SZ}", _suffix(media)
    path, n = folder / f"{stem}{suffix}", 1
    while os.path.lexists(path):
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def _private(ledger: Ledger, what: str, media: dict[str, object], suffix: str = "") -> Path:
    """A name in ``viewing/`` for plaintext made before its viewing is recorded (R16b): a
    crash leaves it where the sweep finds it, a stray."""
    return viewing_dir(ledger) / f".{what}-{uuid.uuid4().hex}{suffix or _suffix(media)}"


def _put(made: Path, target: Path, *, force: bool) -> None:
    """Put a recorded viewing's copy where the viewer asked, by the rules of
    ``ledger.outfiles`` (never through a link, never over a file without ``force``): a
    rename on the same file system, else a copy."""
    import shutil

    with staged(target, force=force, mode=PRIVATE, viewing_copy=True) as tmp:
        try:
            os.replace(made, tmp)
        except OSError:
            shutil.copyfile(made, tmp)


def _tracked(path: Path) -> str:
    """A copy is tracked by its absolute path (the directory resolved, not the file: a
    symbolic link is never written through)."""
    path = Path(path).expanduser()
    return str(path.parent.resolve() / path.name)


@dataclass(frozen=True)
class CopiesRemoved:
    """What removing viewing copies found: ``removed`` (there, and gone now),
    ``not_found`` (not there to remove: moved or deleted outside Custodes) and ``left``
    (still there)."""

    removed: tuple[str, ...]
    not_found: tuple[str, ...]
    left: tuple[str, ...]

    @property
    def gone(self) -> list[str]:
        """Every copy no longer there, removed or not found."""
        return sorted((*self.removed, *self.not_found))


# A copy being destroyed is first renamed beside itself with this ending ("taken"), and
# removed only once its destruction is recorded: a save that fails (a clock behind, the
# database gone) puts it back, and a run stopped in between leaves the taken file for the
# next run to find (the session 19 review: a copy removed before a save that failed was
# recorded "not found" by the next run, a false warning).
_TAKEN = ".custodes-destroying"


def _taken(path: Path) -> Path:
    return path.with_name(path.name + _TAKEN)


def take_copies(paths: Iterable[str]) -> CopiesRemoved:
    """Take copies out of use before their destruction is recorded: each one there is
    renamed with ``_TAKEN`` (``removed``); one already taken by a run that stopped before
    recording counts as removed too; one not there, taken or not, is ``not_found`` (moved
    or deleted outside Custodes); one that cannot be renamed is ``left``. Follow with
    ``discard_copies`` once recorded, or ``put_back_copies`` if recording fails."""
    removed, not_found, left = [], [], []
    for p in paths:
        path = Path(p)
        taken = _taken(path)
        if taken.exists() or taken.is_symlink():
            if path.exists() or path.is_symlink():
                left.append(p)  # a new file under the copy's name: not ours to judge
            else:
                removed.append(p)
            continue
        if not (path.exists() or path.is_symlink()):
            not_found.append(p)
            continue
        try:
            path.rename(taken)
        except OSError:
            left.append(p)
            continue
        removed.append(p)
    return CopiesRemoved(tuple(removed), tuple(not_found), tuple(left))


def discard_copies(paths: Iterable[str]) -> list[str]:
    """Remove taken copies whose destruction is recorded; those that could not be removed
    (a taken file stays until removed by hand or by the next sweep of ``viewing/``)."""
    stuck = []
    for p in paths:
        try:
            _taken(Path(p)).unlink(missing_ok=True)
        except OSError:
            stuck.append(p)
    return stuck


def put_back_copies(paths: Iterable[str]) -> None:
    """Undo ``take_copies`` for copies whose destruction was not recorded."""
    for p in paths:
        path = Path(p)
        try:
            if not (path.exists() or path.is_symlink()):
                _taken(path).rename(path)
        except OSError:
            pass  # the next run finds it taken and counts it removed


def destroy_copies(
    paths: Iterable[str], record: Callable[[CopiesRemoved], object]
) -> CopiesRemoved:
    """Take copies, ``record`` what was found, then remove them; if ``record`` raises,
    the copies are put back and nothing is removed. A copy not there to remove is told
    apart (the session 19 review: a copy moved away before ``footage done`` was recorded
    destroyed)."""
    done = take_copies(paths)
    try:
        record(done)
    except BaseException:
        put_back_copies(done.removed)
        raise
    stuck = discard_copies(done.removed)
    return CopiesRemoved(
        tuple(p for p in done.removed if p not in stuck), done.not_found, (*done.left, *stuck)
    )


def end_viewing(ledger: Ledger, segment_id: str, *, actor: str) -> CopiesRemoved:
    """The viewer is done (R16b): destroy the segment's live copies and record it, naming
    any copy that was not there to remove. Who may is checked first: a refused member
    removes nothing."""
    ledger.authorize(actor, "footage done", COPY_DESTROYERS, FOOTAGE_VIEWING_COPY,
                     subject=segment_id)  # fmt: skip
    seg = ledger.segment_info(segment_id)
    live = ledger.viewing_copies(seg.segment_id)
    if not live:
        raise InvalidInput(
            f"segment {seg.segment_id} has no viewing copy to destroy "
            "(see: custodes footage copies)"
        )

    def record(found: CopiesRemoved) -> None:
        if found.gone:
            ledger.record_copies_destroyed({seg.segment_id: found.gone}, why="ended",
                                           actor=actor, not_found=found.not_found)  # fmt: skip

    done = destroy_copies(sorted(live), record)
    if done.left:
        raise InvalidInput(
            f"could not remove {', '.join(done.left)}; remove it by hand, then run this again"
        )
    return done


@dataclass(frozen=True)
class CopySweep:
    expired: tuple[str, ...]  # tracked copies past their session, destroyed and recorded
    strays: tuple[str, ...]  # untracked files removed from viewing/
    left: tuple[str, ...]  # copies that could not be removed
    not_found: tuple[str, ...] = ()  # of ``expired``: not there to remove, recorded so


def sweep_copies(
    ledger: Ledger,
    live: Sequence[TrackedCopy],
    *,
    now: datetime,
    actor: str,
    dry_run: bool = False,
) -> CopySweep:
    """Destroy copies whose session has ended and remove strays from viewing/ (R16b)."""
    expired = [c for c in live if c.until <= now]
    strays = stray_copies(ledger, live)
    if dry_run:
        return CopySweep(tuple(c.path for c in expired), tuple(map(str, strays)), ())

    def record(found: CopiesRemoved) -> None:
        by_segment: dict[str, Sequence[str]] = {}
        for c in expired:
            if c.path in found.gone:
                by_segment[c.segment_id] = (*by_segment.get(c.segment_id, ()), c.path)
        if by_segment:
            ledger.record_copies_destroyed(by_segment, why="expired", actor=actor,
                                           not_found=found.not_found)  # fmt: skip

    done = destroy_copies([c.path for c in expired], record)
    stray = destroy_copies(map(str, strays), lambda found: None)
    return CopySweep(tuple(done.removed), stray.removed, done.left + stray.left, done.not_found)


def stray_copies(ledger: Ledger, live: Sequence[TrackedCopy]) -> list[Path]:
    """Files in viewing/ the ledger does not hold as live copies (R16b)."""
    assert ledger.datadir is not None
    folder = ledger.datadir.path / "viewing"
    if not folder.is_dir():
        return []
    tracked = {c.path for c in live}

    def held(p: Path) -> bool:  # a live copy, or one taken and not yet recorded destroyed
        name = p.name.removesuffix(_TAKEN)
        return _tracked(p.with_name(name)) in tracked

    return sorted(p for p in folder.iterdir() if not held(p))


def _suffix(media: dict[str, object]) -> str:
    return _SUFFIX.get(str(media.get("container", "")), ".mp4")


# PyAV's container names to a file suffix OpenCV can read back.
_SUFFIX = {"avi": ".avi", "matroska,webm": ".mkv", "mpegts": ".ts"}
