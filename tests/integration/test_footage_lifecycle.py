"""Footage lifecycle on real SQLite and PostgreSQL: cameras, ingest, flags, holds, viewing,
projections (R12-R16)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from capture.errors import SourceVanished, StoreFull
from capture.ingest import ingest_paths, open_vault
from capture.vault import StoredSegment, Vault
from capture.viewing import frame_of_segment, view_segment
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, NotFound, NotPermitted
from ledger.integrity import open_chain, verify_chain
from projections.access import access_report
from projections.base import Views
from projections.refusals import refused_attempts
from projections.registry import all_projections, open_views
from projections.retention import segment_rows
from tests.conftest import NOW
from tests.integration.footage_helpers import (
    CAMERA,
    DIRECTOR,
    MANAGER,
    STAFF,
    clip,
    footage_ledger,
    kinds,
    last_id,
)


def _verifies(data_dir: Path) -> None:
    assert verify_chain(open_chain(DataDir.open(data_dir))).ok


def test_a_camera_in_a_restroom_is_refused_and_the_refusal_recorded(data_dir: Path) -> None:
    ledger = footage_ledger(data_dir)
    before = last_id(ledger)
    with pytest.raises(NotPermitted) as err:
        ledger.clock.set(NOW)
        ledger.register_camera(
            "wc-1",
            location="Restroom",
            zone="restroom",
            signage_posted=True,
            actor=DIRECTOR,
        )
    assert str(err.value) == (
        "CAMERA-PRIVACY-ZONE (720 ILCS 5/26-4; Policy V-B): no camera may be placed in a restroom"
    )
    assert kinds(ledger, before + 1) == ["AccessDenied"]
    with pytest.raises(NotFound, match="camera 'wc-1' is not registered"):
        ledger.camera_info("wc-1")
    ledger.close()


def test_a_folder_ingest_records_good_files_refuses_bad_ones_and_is_idempotent(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    inbox = tmp_path / "inbox"
    good = [clip(inbox, 0), clip(inbox, 1)]
    spare = tmp_path / "spare.mp4"
    shutil.copy(good[0], spare)
    clip(inbox, 2, audio=True)
    (inbox / "notes.txt").write_text("not video")
    before = last_id(ledger)

    ledger.clock.set(NOW)
    summary = ingest_paths(ledger, [inbox], camera=CAMERA, actor=STAFF)

    assert [o.status for o in summary.outcomes] == ["ingested", "ingested", "refused", "refused"]
    assert summary.outcomes[2].message == (
        "CAMERA-NO-AUDIO (720 ILCS 5/14-2; Policy V-B): lobby-1_20261101T085000Z.mp4: "
        "footage carries an audio stream; audio is never recorded; turn audio off on the camera "
        "or recorder and export the segment again. Nothing was ingested"
    )
    assert "notes.txt: not a readable video container" in summary.outcomes[3].message
    assert sorted(kinds(ledger, before + 1)) == [
        "AccessDenied",
        "FootageCaptured",
        "FootageCaptured",
    ]
    assert not good[0].exists() and (inbox / "notes.txt").exists()
    # The audio refusal is a refused attempt, but no attempt to see footage.
    views = open_views(ledger)
    with views.connect() as conn:
        assert [r.rule_id for r in refused_attempts(conn)] == ["CAMERA-NO-AUDIO"]
        assert access_report(conn).refused == ()
    views.close()

    # Same content again (a copy): reported, not recorded twice, source left in place.
    shutil.copy(spare, inbox / spare.name)
    again_from = last_id(ledger) + 1
    again = ingest_paths(ledger, [inbox / spare.name], camera=CAMERA, actor=STAFF)
    assert [o.status for o in again.outcomes] == ["duplicate"]
    assert again.outcomes[0].segment_id == summary.outcomes[0].segment_id
    assert kinds(ledger, again_from) == []
    info = ledger.segment_info(summary.outcomes[0].segment_id or "")
    assert info.camera_id == CAMERA and info.recorded_end - info.recorded_start == timedelta(
        seconds=1
    )
    assert info.retention_deadline == info.recorded_end + timedelta(days=30)
    ledger.close()
    _verifies(data_dir)


def test_ingest_from_an_unknown_camera_records_and_stores_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    before = last_id(ledger)
    with pytest.raises(NotFound) as err:
        ledger.clock.set(NOW)
        ingest_paths(ledger, [clip(tmp_path, 0)], camera="attic-9", actor=STAFF)
    assert str(err.value) == (
        "camera 'attic-9' is not registered. See the registered cameras with: custodes camera "
        "list; a Director registers a new one with: custodes camera add CAMERA_ID --location "
        "TEXT --zone public --signage-posted --as NAME"
    )
    assert last_id(ledger) == before
    assert (
        list((data_dir / "footage" / "blobs").glob("*")) == []
        if (data_dir / "footage").exists()
        else True
    )
    ledger.close()


def test_a_file_that_vanishes_mid_ingest_leaves_nothing_behind(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    path = clip(tmp_path, 0)
    before = last_id(ledger)

    def vanish(step: str) -> None:
        raise SourceVanished(f"{path}: the file was removed while it was read; nothing was stored.")

    ledger.clock.set(NOW)
    summary = ingest_paths(ledger, [path], camera=CAMERA, actor=STAFF, fail_at=vanish)
    assert summary.outcomes[0].status == "refused"
    assert last_id(ledger) == before
    assert list((data_dir / "footage" / "blobs").iterdir()) == []
    assert path.exists()
    ledger.close()


class Crash(BaseException):
    """Stands for kill -9: no clean-up handler runs."""


def test_a_crash_between_storing_and_recording_is_recorded_by_the_next_ingest(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    path = clip(tmp_path, 0)

    def crash(step: str) -> None:
        raise Crash(step)

    with pytest.raises(Crash):
        ledger.clock.set(NOW)
        ingest_paths(ledger, [path], camera=CAMERA, actor=STAFF, fail_at=crash)
    assert len(list((data_dir / "footage" / "blobs").iterdir())) == 1
    before = last_id(ledger)
    ledger.clock.set(NOW)
    summary = ingest_paths(ledger, [path], camera=CAMERA, actor=STAFF)
    assert summary.outcomes[0].status == "recovered"
    assert "recorded after interruption" in summary.outcomes[0].message
    assert kinds(ledger, before + 1) == ["FootageCaptured"]
    ledger.close()


def test_archived_footage_is_refused_to_staff_and_the_attempt_recorded(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    ledger.clock.set(NOW)
    seg = ingest_paths(ledger, [clip(tmp_path, 0)], camera=CAMERA, actor=STAFF)
    sid = seg.outcomes[0].segment_id or ""
    later = NOW + timedelta(days=2)
    before = last_id(ledger)
    with pytest.raises(NotPermitted) as err:
        ledger.clock.set(later)
        view_segment(
            ledger,
            sid,
            reason="a patron said her bag was taken",
            purpose="other",
            remote=False,
            actor=STAFF,
        )
    assert str(err.value) == (
        "FOOTAGE-ARCHIVE-ACCESS (Policy V-B): Sam Staff (staff): recorded footage is archived "
        "footage and may be viewed only by the Director or the Business Manager (staff watch "
        "the live view on the camera system)"
    )
    with pytest.raises(NotPermitted, match="^FOOTAGE-NO-STAFF-MONITORING"):
        view_segment(
            ledger,
            sid,
            reason="monitor the employee at the desk",
            purpose="other",
            remote=True,
            actor=MANAGER,
        )
    with pytest.raises(NotPermitted, match="a reason is required; pass --reason TEXT"):
        view_segment(ledger, sid, reason="  ", purpose="safety", remote=False, actor=MANAGER)
    assert kinds(ledger, before + 1) == ["AccessDenied", "AccessDenied", "AccessDenied"]

    out = tmp_path / "copy.mp4"
    ledger.clock.set(later)
    result = view_segment(
        ledger,
        sid,
        reason="patron fell",
        purpose="safety",
        remote=True,
        actor=MANAGER,
        out=out,
    )
    assert result.archived and out.stat().st_size > 0
    still = frame_of_segment(
        ledger,
        sid,
        at_seconds=0.4,
        out_png=tmp_path / "s.png",
        reason="patron fell",
        purpose="safety",
        remote=False,
        actor=DIRECTOR,
    )
    assert still.path.read_bytes()[:4] == b"\x89PNG"
    views = open_views(ledger)
    with views.connect() as conn:
        report = access_report(conn)
    views.close()
    assert [(v.actor, v.actor_role, v.kind, v.reason, v.remote) for v in report.viewings] == [
        (MANAGER, "business_manager", "view", "patron fell", True),
        (DIRECTOR, "director", "frame", "patron fell", False),
    ]
    assert [(r.actor, r.rule_id) for r in report.refused] == [
        (STAFF, "FOOTAGE-ARCHIVE-ACCESS"),
        (MANAGER, "FOOTAGE-NO-STAFF-MONITORING"),
        (MANAGER, "FOOTAGE-VIEW-REASON"),
    ]
    ledger.close()
    _verifies(data_dir)


def test_only_the_director_releases_a_hold(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    ledger.clock.set(NOW)
    seg = ingest_paths(ledger, [clip(tmp_path, 0), clip(tmp_path, 1)], camera=CAMERA, actor=STAFF)
    ids = [o.segment_id or "" for o in seg.outcomes]
    hold = ledger.place_hold(
        ids, kind="foia", reason="FOIA request", reference="FOIA-26-7", actor=STAFF
    )
    with pytest.raises(
        NotPermitted, match="only the Director may release a hold, not the business manager"
    ):
        ledger.clock.set(NOW)
        ledger.release_hold(hold, reason="done", actor=MANAGER)
    with pytest.raises(InvalidInput, match="a reason is required"):
        ledger.release_hold(hold, reason="", actor=DIRECTOR)
    with pytest.raises(NotFound, match="hold 'H-00000000' does not exist"):
        ledger.release_hold("H-00000000", reason="no such hold", actor=DIRECTOR)
    ledger.clock.set(NOW)
    ledger.release_hold(hold, reason="request answered", actor=DIRECTOR)
    assert ledger.hold_info(hold).released_at == NOW
    assert ledger.segment_info(ids[0]).holds == ()
    ledger.close()


def test_rebuilt_read_models_equal_the_incrementally_kept_ones(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    views = open_views(ledger)  # kept incrementally from the start
    ledger.clock.set(NOW)
    seg = ingest_paths(ledger, [clip(tmp_path, n) for n in range(3)], camera=CAMERA, actor=STAFF)
    ids = [o.segment_id or "" for o in seg.outcomes]
    views.catch_up()
    flag = ledger.flag(ids[0], incident="IR-1", reason="theft at desk", actor=STAFF)
    hold = ledger.place_hold(ids[1:], kind="legal", reason="suit", reference="L-1", actor=DIRECTOR)
    views.catch_up()
    ledger.clear_flag(ids[0], flag, reason="no theft", actor=DIRECTOR)
    ledger.release_hold(hold, reason="settled", actor=DIRECTOR)
    view_segment(
        ledger,
        ids[2],
        reason="check the lobby door",
        purpose="safety",
        remote=False,
        actor=DIRECTOR,
    )
    views.catch_up()

    def dump(v: Views) -> dict[str, list]:
        out = {}
        with v.connect() as conn:
            for p in v.projections:
                for name, table in sorted(p.metadata.tables.items()):
                    out[name] = sorted(map(tuple, conn.execute(select(table))), key=repr)
        return out

    incremental = dump(views)
    views.close()
    fresh = Views(ledger, all_projections())
    fresh.rebuild()
    assert dump(fresh) == incremental
    with fresh.connect() as conn:
        assert [r.status for r in segment_rows(conn, NOW)] == ["retained"] * 3
        for days, status in ((0, "retained"), (29, "due"), (31, "overdue")):
            when = NOW + timedelta(days=days)
            assert [r.status for r in segment_rows(conn, when)] == [status] * 3
            assert len(segment_rows(conn, when, status=status)) == 3  # SQL agrees with Python
    fresh.close()
    ledger.close()


class FullVault(Vault):
    """The store's disk is full (a fake of our own port, not a mock)."""

    def ingest(self, src: Path, *, move: bool = True) -> StoredSegment:
        raise StoreFull(f"{self.root}/tmp: no space left while writing; nothing was stored.")


def test_a_full_disk_refuses_the_file_and_records_nothing(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    path = clip(tmp_path, 0)
    before = last_id(ledger)
    real = open_vault(ledger)
    full = FullVault(real.root, ledger.secret("footage_site"))
    ledger.clock.set(NOW)
    summary = ingest_paths(ledger, [path], camera=CAMERA, actor=STAFF, vault=full)
    assert [(o.status, o.message) for o in summary.outcomes] == [
        ("refused", f"{real.root}/tmp: no space left while writing; nothing was stored.")
    ]
    assert last_id(ledger) == before and path.exists()
    assert list(real.root.joinpath("blobs").iterdir()) == []
    ledger.close()
    _verifies(data_dir)


def test_a_hold_placed_by_staff_comes_before_the_director_for_review(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red-team finding 4: any staff member could keep footage past its 30 days with an
    open-ended hold, and nobody was asked to look at it again."""
    from zoneinfo import ZoneInfo

    from projections.attention import _hold_items
    from projections.registry import read_views

    ledger = footage_ledger(data_dir)
    ledger.clock.set(NOW)
    seg = ingest_paths(ledger, [clip(tmp_path, 0), clip(tmp_path, 1)], camera=CAMERA, actor=STAFF)
    ids = [o.segment_id or "" for o in seg.outcomes]
    by_staff = ledger.place_hold(
        ids[:1], kind="legal", reason="notice", reference="L-9", actor=STAFF
    )
    by_director = ledger.place_hold(
        ids[1:], kind="legal", reason="notice", reference="L-9", actor=DIRECTOR
    )
    assert ledger.hold_info(by_staff).review_by == NOW + timedelta(days=90)  # the flag bound
    assert ledger.hold_info(by_director).review_by is None  # the Director's own call

    def due(conn):  # type: ignore[no-untyped-def]
        later = NOW + timedelta(days=91)
        return [i.subject_id for i in _hold_items(conn, later, ZoneInfo("America/Chicago"))]

    assert read_views(ledger, due) == [by_staff]
    ledger.close()


def test_a_hold_placed_by_staff_cannot_put_its_review_out_of_the_directors_sight(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red-team (redteam9): the review date that brings a staff member's hold before the
    Director could be typed as 2099-12-31 (or a day already past), keeping footage past
    its 30 days with nobody asked to look at it again."""
    ledger = footage_ledger(data_dir)
    ledger.clock.set(NOW)
    seg = ingest_paths(ledger, [clip(tmp_path, 0)], camera=CAMERA, actor=STAFF)
    ids = [o.segment_id or "" for o in seg.outcomes]
    before = last_id(ledger)
    with pytest.raises(NotPermitted) as err:
        ledger.place_hold(ids, kind="investigation", reason="theft in the lot", reference="IR-7",
                          actor=STAFF, review_by=NOW + timedelta(days=91))  # fmt: skip
    assert str(err.value).startswith(
        "FOOTAGE-HOLD-RELEASE-DIRECTOR (Policy V-A, V-B): a hold placed by anyone but the "
        "Director is reviewed within 90 days"
    )
    assert kinds(ledger, before + 1) == ["AccessDenied"]
    before = last_id(ledger)
    with pytest.raises(InvalidInput, match="is not in the future"):
        ledger.place_hold(ids, kind="investigation", reason="theft in the lot", reference="IR-7",
                          actor=DIRECTOR, review_by=NOW - timedelta(days=1))  # fmt: skip
    assert last_id(ledger) == before  # bad input: nothing recorded
    by_staff = ledger.place_hold(ids, kind="investigation", reason="theft in the lot",
                                 reference="IR-7", actor=STAFF,
                                 review_by=NOW + timedelta(days=90))  # fmt: skip
    assert ledger.hold_info(by_staff).review_by == NOW + timedelta(days=90)
    by_director = ledger.place_hold(ids, kind="legal", reason="counsel's letter",
                                    reference="L-9", actor=DIRECTOR,
                                    review_by=NOW + timedelta(days=400))  # fmt: skip
    assert ledger.hold_info(by_director).review_by == NOW + timedelta(days=400)  # her call
    ledger.close()
