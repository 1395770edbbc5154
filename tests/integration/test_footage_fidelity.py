"""The legal review's footage findings (issue 12: 6-13), each tried as a hostile staff
member would: the attempt, the exact rule that refuses it, and the refusal recorded;
then what the policy does allow. SQLite and PostgreSQL. The policy's words: Policy V-B."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from capture.viewing import end_viewing, frame_of_segment, sweep_copies, view_segment
from ledger.app import Ledger
from ledger.errors import InvalidInput, NotPermitted
from projections.access import access_report, live_copies
from projections.registry import read_views
from projections.retention import due_segment_ids, segment_rows
from tests.conftest import NOW
from tests.integration.footage_helpers import (
    CAMERA,
    DIRECTOR,
    MANAGER,
    REC,
    STAFF,
    clip,
    footage_ledger,
    kinds,
    last_id,
)

PAST_DEADLINE = REC + timedelta(days=31)  # the clip ended 1 s after REC: 30 days kept


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[Ledger]:
    led = footage_ledger(data_dir)
    led.tmp = data_dir.parent / "clips"  # type: ignore[attr-defined]
    yield led
    led.close()


def segment(led: Ledger, n: int = 0, *, start: object = REC) -> str:
    path = clip(led.tmp, n, start=start)  # type: ignore[attr-defined, arg-type]
    outcome = ingest_paths(led, [path], camera=CAMERA, actor=STAFF).outcomes[0]
    assert outcome.segment_id, outcome.message
    return outcome.segment_id


def view(led: Ledger, sid: str, actor: str, reason: str = "patron fell", **kw: object) -> Path:
    kw.setdefault("purpose", "safety")
    return view_segment(led, sid, reason=reason, remote=False, actor=actor, **kw).path  # type: ignore[arg-type]


# ---- the attempts, one per way the review got through ------------------------------------


def staff_views_a_minute_old_segment(led: Ledger) -> None:
    sid = segment(led, start=NOW - timedelta(minutes=2))
    view(led, sid, STAFF, "check the lobby")


def staff_takes_a_still_of_a_fresh_segment(led: Ledger) -> None:
    sid = segment(led, start=NOW - timedelta(minutes=2))
    frame_of_segment(led, sid, at_seconds=0.2, out_png=led.tmp / "s.png", reason="who was it",  # type: ignore[attr-defined]
                     purpose="safety", remote=False, actor=STAFF)  # fmt: skip


def director_views_a_day_past_the_deadline(led: Ledger) -> None:
    sid = segment(led)
    led.clock.set(PAST_DEADLINE)
    view(led, sid, DIRECTOR, "one more look")


def retention_cut_to_two_days(led: Ledger) -> None:
    led.change_retention(retention_days=2, reason="save disk", actor=DIRECTOR)


def staff_views_without_a_reason(led: Ledger) -> None:
    view(led, segment(led), STAFF, "")


def director_views_with_a_blank_reason(led: Ledger) -> None:
    view(led, segment(led), DIRECTOR, "   ")


def flag_kept_until_9999(led: Ledger) -> None:
    led.flag(segment(led), incident="board review", reason="keep for the board", actor=STAFF,
             retain_until=NOW.replace(year=9999, month=12, day=31))  # fmt: skip


def staff_extends_a_flag(led: Ledger) -> None:
    sid = segment(led)
    flag = led.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    led.extend_flag(sid, flag, until=NOW + timedelta(days=60), reason="longer", actor=STAFF)


def manager_clears_the_directors_extended_flag(led: Ledger) -> None:
    """Red-team finding 16: the Business Manager cut short what only the Director extends."""
    sid = segment(led)
    flag = led.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    led.clock.set(NOW + timedelta(days=20))
    led.extend_flag(sid, flag, until=NOW + timedelta(days=100), reason="trial", actor=DIRECTOR)
    led.clear_flag(sid, flag, reason="no longer needed", actor=MANAGER)


def director_extends_a_flag_past_the_bound(led: Ledger) -> None:
    sid = segment(led)
    flag = led.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    led.extend_flag(sid, flag, until=NOW + timedelta(days=400), reason="trial", actor=DIRECTOR)


def staff_chains_a_second_flag(led: Ledger) -> None:
    sid = segment(led)
    led.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    led.clock.set(NOW + timedelta(days=80))  # past the 30 days: kept by the flag
    # an end past 90 days after the segment's own deadline (with no end given, a staff
    # flag takes that bound: red team, session 13)
    led.flag(sid, incident="IR-114 theft", reason="still wanted", actor=STAFF,
             retain_until=NOW + timedelta(days=170))  # fmt: skip


def staff_flags_footage_already_due(led: Ledger) -> None:
    sid = segment(led)
    led.clock.set(PAST_DEADLINE)
    led.flag(sid, incident="IR-200", reason="keep it after all", actor=STAFF)


def staff_ends_the_directors_viewing(led: Ledger) -> None:
    sid = segment(led)
    copy = view(led, sid, DIRECTOR)
    try:
        end_viewing(led, sid, actor=STAFF)
    finally:
        assert copy.exists()  # nothing removed by a refused member
        copy.unlink()  # (by hand: the test's last check wants viewing/ empty)


def whether_sam_left_the_desk_early(led: Ledger) -> None:
    view(led, segment(led), DIRECTOR, "see whether Sam left the circulation desk early",
         purpose="other")  # fmt: skip


def whether_sofia_arrived_late(led: Ledger) -> None:
    view(led, segment(led), MANAGER, "check if Sofia arrived late for her shift",
         purpose="other")  # fmt: skip


def manager_notes_it_is_not_monitoring(led: Ledger) -> None:
    view(led, segment(led), MANAGER, "Sam reported a patron's fall", purpose="safety",
         not_staff_monitoring="Sam is the witness, not the subject")  # fmt: skip


def flag_naming_a_staff_member(led: Ledger) -> None:
    led.flag(segment(led), incident="desk", reason="Bo on the phone at the desk", actor=STAFF)


def camera_in_the_mens_restroom(led: Ledger) -> None:
    led.register_camera("rr-1", location="Men's restroom near sinks", zone="public",
                        signage_posted=True, actor=DIRECTOR)  # fmt: skip


def camera_in_the_break_room(led: Ledger) -> None:
    led.register_camera("br-1", location="Staff break room", zone="staff_area",
                        signage_posted=True, actor=DIRECTOR)  # fmt: skip


CASES: list[tuple[str, Callable[[Ledger], None], str, str]] = [
    ("6", staff_views_a_minute_old_segment, "FOOTAGE-ARCHIVE-ACCESS", "archived footage"),
    ("6", staff_takes_a_still_of_a_fresh_segment, "FOOTAGE-ARCHIVE-ACCESS", "Business Manager"),
    ("8", director_views_a_day_past_the_deadline, "FOOTAGE-PAST-DEADLINE", "no hold covers it"),
    ("9", retention_cut_to_two_days, "FOOTAGE-RETENTION", "policy's 30 days"),
    ("10", staff_views_without_a_reason, "FOOTAGE-VIEW-REASON", "a reason is required"),
    ("10", director_views_with_a_blank_reason, "FOOTAGE-VIEW-REASON", "a reason is required"),
    ("11", flag_kept_until_9999, "FOOTAGE-FLAG-BOUND", "at most 90 days ahead"),
    ("11", staff_extends_a_flag, "FOOTAGE-FLAG-BOUND", "only the Director extends"),
    (
        "11",
        manager_clears_the_directors_extended_flag,
        "FOOTAGE-RETENTION",
        "only the Director clears",
    ),
    ("11", director_extends_a_flag_past_the_bound, "FOOTAGE-FLAG-BOUND", "an extension ends"),
    ("11", staff_chains_a_second_flag, "FOOTAGE-FLAG-BOUND", "past its own deadline"),
    ("11", staff_flags_footage_already_due, "FOOTAGE-PAST-DEADLINE", "no hold covers it"),
    ("7", staff_ends_the_directors_viewing, "FOOTAGE-VIEWING-COPY", "may not use “footage done”"),
    ("12", whether_sam_left_the_desk_early, "FOOTAGE-NO-STAFF-MONITORING", "'Sam Staff'"),
    ("12", whether_sofia_arrived_late, "FOOTAGE-NO-STAFF-MONITORING", "arrived late"),
    ("12", manager_notes_it_is_not_monitoring, "FOOTAGE-NO-STAFF-MONITORING", "only the Director"),
    ("12", flag_naming_a_staff_member, "FOOTAGE-NO-STAFF-MONITORING", "phone"),
    ("13", camera_in_the_mens_restroom, "CAMERA-PRIVACY-ZONE", "'restroom'"),
    ("13", camera_in_the_break_room, "CAMERA-PRIVACY-ZONE", "'break room'"),
]


@pytest.mark.parametrize(("finding", "attempt", "rule_id", "says"), CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])  # fmt: skip
def test_each_footage_finding_is_refused_by_its_rule_and_the_refusal_recorded(
    ledger: Ledger, finding: str, attempt: Callable[[Ledger], None], rule_id: str, says: str
) -> None:
    with pytest.raises(NotPermitted) as refused:
        attempt(ledger)
    assert str(refused.value).startswith(rule_id + " (")
    assert says in str(refused.value)
    last = list(ledger.read_log(kinds=["AccessDenied"]))[-1]
    assert last.details["rule_id"] == rule_id
    assert kinds(ledger, last.notification_id)[-1] == "AccessDenied"  # nothing recorded after it
    assert not (ledger.datadir.path / "viewing").exists() or not any(  # type: ignore[union-attr]
        (ledger.datadir.path / "viewing").iterdir()  # type: ignore[union-attr]
    )


# ---- what the policy allows, and what the ledger keeps of it ----------------------------


def test_a_viewing_copy_is_tracked_and_destroyed_when_the_viewer_is_done(ledger: Ledger) -> None:
    sid = segment(ledger)
    copy = view(ledger, sid, MANAGER)
    assert copy.exists() and copy.parent == ledger.datadir.path / "viewing"  # type: ignore[union-attr]
    assert list(ledger.viewing_copies(sid)) == [str(copy)]
    before = last_id(ledger)
    done = end_viewing(ledger, sid, actor=MANAGER)
    assert done.removed == (str(copy),) and done.not_found == () and done.left == ()
    assert not copy.exists()
    assert kinds(ledger, before + 1) == ["ViewingCopiesDestroyed"]
    assert ledger.viewing_copies(sid) == {}
    with pytest.raises(InvalidInput, match="has no viewing copy"):
        end_viewing(ledger, sid, actor=MANAGER)


def test_a_copy_not_there_to_destroy_is_recorded_not_found_never_destroyed(
    ledger: Ledger,
) -> None:
    """Outside review (sessions 17-18, left then): a copy moved away before ``footage
    done``, before its session ran out, or before its segment's purge was recorded
    destroyed like the others. Now it is recorded as not found, in the same act, and the
    compliance report names it (``projections.attention``); never as destroyed."""
    from projections.access import copies_not_found

    ended, expired, purged = segment(ledger, 0), segment(ledger, 1), segment(ledger, 2)
    away = ledger.tmp / "taken-home.mp4"  # type: ignore[attr-defined]
    moved = view(ledger, ended, MANAGER)
    kept = view(ledger, ended, DIRECTOR)
    moved.rename(away)  # the viewer keeps a copy out of Custodes' reach
    done = end_viewing(ledger, ended, actor=MANAGER)
    assert done.removed == (str(kept),) and done.not_found == (str(moved),)
    [event] = list(ledger.read_log(kinds=["ViewingCopiesDestroyed"]))
    assert event.details["copies"] == sorted([str(moved), str(kept)])
    assert event.details["not_found"] == [str(moved)] and event.details["why"] == "ended"
    assert ledger.viewing_copies(ended) == {}

    gone = view(ledger, expired, DIRECTOR)
    gone.unlink()
    ledger.clock.set(NOW + timedelta(hours=3))
    swept = sweep_copies(ledger, read_views(ledger, live_copies), now=ledger.clock(),
                         actor=DIRECTOR)  # fmt: skip
    assert swept.expired == () and swept.not_found == (str(gone),)

    last = view(ledger, purged, DIRECTOR)
    last.unlink()
    ledger.clock.set(PAST_DEADLINE)
    due = read_views(ledger, lambda c: due_segment_ids(c, ledger.clock()))
    result = sweep(ledger, open_vault(ledger), [d for d in due if d.segment_id == purged],
                   actor=DIRECTOR)  # fmt: skip
    assert [o.status for o in result.outcomes] == ["purged"]
    destroyed = list(ledger.read_log(kinds=["ViewingCopiesDestroyed"]))[-1]
    assert destroyed.details["not_found"] == [str(last)] and destroyed.details["why"] == "purge"
    rows = read_views(ledger, copies_not_found)
    assert [(r.segment_id, r.path) for r in rows] == [
        (ended, str(moved)), (expired, str(gone)), (purged, str(last))
    ]  # fmt: skip
    assert away.exists()  # what Custodes cannot reach, it does not claim to have destroyed


def test_a_copy_not_found_stays_on_record_when_its_path_is_used_again(
    ledger: Ledger,
) -> None:
    """Found in session 20: a new copy made at the path of one recorded not found (the
    same --out, a week later) replaced its row in the read model, and the compliance
    report's warning about the copy taken away went with it. Each copy made is its own
    row now."""
    from projections.access import copies_not_found

    sid = segment(ledger, 0)
    out = ledger.tmp / "clip.mp4"  # type: ignore[attr-defined]
    view(ledger, sid, MANAGER, out=out).rename(ledger.tmp / "usb.mp4")  # type: ignore[attr-defined]
    end_viewing(ledger, sid, actor=MANAGER)
    [lost] = read_views(ledger, copies_not_found)
    ledger.clock.set(NOW + timedelta(minutes=5))
    view(ledger, sid, MANAGER, out=out)
    assert read_views(ledger, copies_not_found) == [lost]
    assert [c.path for c in read_views(ledger, live_copies)] == [str(out)]
    view(ledger, sid, MANAGER, out=out, force=True)  # a live copy overwritten: still one
    assert [c.path for c in read_views(ledger, live_copies)] == [str(out)]
    done = end_viewing(ledger, sid, actor=MANAGER)
    assert done.removed == (str(out),) and done.not_found == ()
    assert read_views(ledger, copies_not_found) == [lost]
    assert read_views(ledger, live_copies) == []


def test_a_copy_is_removed_only_once_its_destruction_is_recorded(ledger: Ledger) -> None:
    """The session 19 review: copies were removed before the act was saved, so a save
    that failed (a clock behind) left them gone but live, and the next run recorded them
    "not found" -- a false warning about a copy Custodes itself destroyed. Now a copy is
    taken (renamed beside itself) first, put back if the save fails, and a taken copy a
    stopped run left behind is found and recorded destroyed."""
    from capture.viewing import stray_copies, take_copies
    from ledger.errors import ClockBehind
    from projections.access import copies_not_found

    ended, purged = segment(ledger, 0), segment(ledger, 1)
    copy = view(ledger, ended, MANAGER)
    before = last_id(ledger)
    ledger.clock.set(NOW - timedelta(hours=1))
    with pytest.raises(ClockBehind):
        end_viewing(ledger, ended, actor=MANAGER)
    assert copy.exists() and last_id(ledger) == before  # put back; nothing recorded
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]
    ledger.clock.set(NOW + timedelta(minutes=1))
    done = end_viewing(ledger, ended, actor=MANAGER)
    assert done.removed == (str(copy),) and done.not_found == ()
    assert not copy.exists() and list(copy.parent.iterdir()) == []

    # A sweep stopped between destroying the footage and recording it (a crash) leaves
    # the copy taken; the sweep of viewing/ does not take it for a stray, and the next
    # run's purge finds it.
    last = view(ledger, purged, DIRECTOR)

    class Crash(Exception):
        pass

    def crash(step: str, _segment: str) -> None:
        if step == "confirmed":
            raise Crash

    ledger.clock.set(PAST_DEADLINE)
    due = [d for d in read_views(ledger, lambda c: due_segment_ids(c, ledger.clock()))
           if d.segment_id == purged]  # fmt: skip
    with pytest.raises(Crash):
        sweep(ledger, open_vault(ledger), due, actor=DIRECTOR, fail_at=crash)
    assert last.exists()  # put back by the stopped run, as a slower crash would not be
    assert take_copies([str(last)]).removed == (str(last),)  # what a kill leaves
    assert not last.exists()
    assert stray_copies(ledger, read_views(ledger, live_copies)) == []  # not a stray
    result = sweep(ledger, open_vault(ledger), due, actor=DIRECTOR)
    assert [o.status for o in result.outcomes] == ["completed"]
    destroyed = list(ledger.read_log(kinds=["ViewingCopiesDestroyed"]))[-1]
    assert destroyed.details["copies"] == [str(last)] and destroyed.details["why"] == "purge"
    assert not destroyed.details.get("not_found")
    assert read_views(ledger, copies_not_found) == [] and ledger.viewing_copies(purged) == {}
    assert list(last.parent.iterdir()) == []


def test_the_sweep_destroys_expired_copies_strays_and_every_copy_before_the_purge(
    ledger: Ledger,
) -> None:
    kept, purged = segment(ledger, 0), segment(ledger, 1)
    expired = view(ledger, kept, DIRECTOR)
    outside = ledger.tmp / "my-copy.mp4"  # type: ignore[attr-defined]
    still = ledger.tmp / "still.png"  # type: ignore[attr-defined]
    view(ledger, purged, DIRECTOR, out=outside)
    frame_of_segment(ledger, purged, at_seconds=0.2, out_png=still, reason="who",
                     purpose="safety", remote=False, actor=MANAGER)  # fmt: skip
    stray = ledger.datadir.path / "viewing" / "copied-by-hand.mp4"  # type: ignore[union-attr]
    stray.write_bytes(b"plain video")
    ledger.flag(kept, incident="IR-7 fall", reason="patron fell", actor=STAFF)
    ledger.clock.set(NOW + timedelta(hours=3))  # each copy's two-hour session has ended
    copies = read_views(ledger, live_copies)
    assert sorted(c.path for c in copies) == sorted([str(expired), str(outside), str(still)])
    swept = sweep_copies(ledger, copies, now=ledger.clock(), actor=DIRECTOR)
    assert set(swept.expired) == {str(expired), str(outside), str(still)}
    assert swept.strays == (str(stray),) and swept.left == ()
    assert not any(p.exists() for p in (expired, outside, still, stray))
    # A copy made now is destroyed with its segment's purge at the latest.
    again = view(ledger, purged, DIRECTOR, out=ledger.tmp / "again.mp4")  # type: ignore[attr-defined]
    ledger.clock.set(PAST_DEADLINE)
    due = read_views(ledger, lambda c: due_segment_ids(c, ledger.clock()))
    assert [d.segment_id for d in due] == [purged]
    result = sweep(ledger, open_vault(ledger), due, actor=DIRECTOR)
    assert [o.status for o in result.outcomes] == ["purged"]
    assert not again.exists()
    purge = list(ledger.read_log(kinds=["FootagePurged"]))[-1]
    destroyed = list(ledger.read_log(kinds=["ViewingCopiesDestroyed"]))[-1]
    assert (
        destroyed.notification_id == purge.notification_id - 1
    )  # the same act, just before the purge
    assert destroyed.details["copies"] == [str(again)] and destroyed.details["why"] == "purge"
    assert purge.details["retention_days"] == 30


def test_retention_is_never_below_the_policys_and_each_purge_records_its_own(
    ledger: Ledger,
) -> None:
    with pytest.raises(InvalidInput, match="custodes policy adopt"):  # longer: a new version
        ledger.change_retention(retention_days=45, reason="board resolution", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="FOOTAGE-RETENTION"):  # shorter: refused, recorded
        ledger.change_retention(retention_days=14, reason="disk space", actor=DIRECTOR)
    sid = segment(ledger)
    rows = read_views(ledger, lambda c: segment_rows(c, NOW))
    assert [(r.segment_id, r.retention_days) for r in rows] == [(sid, 30)]
    ledger.clock.set(REC + timedelta(days=29))
    early = sweep(ledger, open_vault(ledger),
                  read_views(ledger, lambda c: due_segment_ids(c, ledger.clock())),
                  actor=DIRECTOR)  # fmt: skip
    assert early.outcomes == [] or [o.status for o in early.outcomes] != ["purged"]
    ledger.clock.set(REC + timedelta(days=31))
    result = sweep(ledger, open_vault(ledger),
                   read_views(ledger, lambda c: due_segment_ids(c, ledger.clock())),
                   actor=DIRECTOR)  # fmt: skip
    assert [o.status for o in result.outcomes] == ["purged"]
    assert list(ledger.read_log(kinds=["FootagePurged"]))[-1].details["retention_days"] == 30


def test_past_its_deadline_a_held_segment_may_still_be_viewed(ledger: Ledger) -> None:
    sid = segment(ledger)
    ledger.place_hold([sid], kind="legal", reason="suit", reference="L-1", actor=DIRECTOR)
    ledger.clock.set(PAST_DEADLINE)
    assert view(ledger, sid, DIRECTOR).exists()


def test_a_flag_names_its_incident_and_ends_within_90_days_unless_the_director_extends(
    ledger: Ledger,
) -> None:
    sid = segment(ledger)
    with pytest.raises(InvalidInput, match="name the incident; pass --incident TEXT"):
        ledger.flag(sid, incident=" ", reason="keep for the board", actor=STAFF)
    flag = ledger.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    assert ledger.segment_info(sid).flags == (flag,)
    flagged = list(ledger.read_log(kinds=["FootageFlagged"]))[-1].details
    assert flagged["incident"] == "IR-114 theft"
    assert flagged["retain_until"] == NOW + timedelta(days=90)  # the default end
    later = NOW + timedelta(days=150)
    ledger.clock.set(NOW + timedelta(days=80))
    ledger.extend_flag(sid, flag, until=later, reason="trial in March", actor=DIRECTOR)
    rows = read_views(ledger, lambda c: segment_rows(c, NOW + timedelta(days=100)))
    assert [(r.status, r.keep_until) for r in rows] == [("flagged", later)]


def test_the_directors_note_lets_a_purpose_naming_staff_through_and_the_report_lists_it(
    ledger: Ledger,
) -> None:
    sid = segment(ledger)
    note = "Sam is the witness who called 911, not the subject"
    view(ledger, sid, DIRECTOR, "Sam reported a patron's fall", not_staff_monitoring=note)
    report = read_views(ledger, access_report)
    assert [(n.actor, n.act, n.segment_id, n.note) for n in report.staff_notes] == [
        (DIRECTOR, "view", sid, note)
    ]


def test_a_location_naming_a_private_place_needs_the_directors_reason(ledger: Ledger) -> None:
    cam = ledger.register_camera(
        "hall-2", location="Hallway outside the restrooms", zone="public", signage_posted=True,
        actor=DIRECTOR, not_private="mounted at the far end, facing away from the doors",
    )  # fmt: skip
    assert cam.privacy_note == "mounted at the far end, facing away from the doors"
    plain = ledger.register_camera(
        "desk-1", location="Circulation desk", zone="public", signage_posted=True, actor=DIRECTOR
    )
    assert plain.privacy_note is None


def test_the_business_manager_clears_a_flag_a_staff_member_set(ledger: Ledger) -> None:
    sid = segment(ledger)
    flag = ledger.flag(sid, incident="IR-114 theft", reason="wallet taken", actor=STAFF)
    ledger.clear_flag(sid, flag, reason="wallet found at home", actor=MANAGER)
    assert ledger.segment_info(sid).flags == ()


@pytest.mark.parametrize("kind", ["view", "frame"])
def test_no_copy_leaves_the_data_directory_before_its_viewing_is_recorded(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Red-team (redteam9): the copy was written to --out first and the viewing recorded
    after; a viewer who held the database's lock (or was killed) in between kept a
    plaintext copy outside the data directory that no log shows (R16, R16b). Until the
    viewing is recorded, the plaintext is only in viewing/, where a crash leaves a stray
    the sweep removes and reports."""
    sid = segment(ledger)
    out = ledger.tmp / ("copy.mp4" if kind == "view" else "still.png")  # type: ignore[attr-defined]
    private = ledger.datadir.path / "viewing"  # type: ignore[union-attr]
    recording = ledger.record_viewing
    seen: list[tuple[bool, int]] = []

    def record(*args: object, **kw: object) -> None:
        seen.append((out.exists(), len(list(private.iterdir()))))
        raise SystemExit("killed while waiting for the lock")

    monkeypatch.setattr(ledger, "record_viewing", record)
    with pytest.raises(SystemExit):
        if kind == "view":
            view(ledger, sid, MANAGER, out=out)
        else:
            frame_of_segment(ledger, sid, at_seconds=0.2, out_png=out, reason="who fell",
                             purpose="safety", remote=False, actor=MANAGER)  # fmt: skip
    assert seen == [(False, 1)]  # nothing outside yet; the plaintext only in viewing/
    assert not out.exists()
    monkeypatch.setattr(ledger, "record_viewing", recording)
    if kind == "view":
        view(ledger, sid, MANAGER, out=out)
    else:
        frame_of_segment(ledger, sid, at_seconds=0.2, out_png=out, reason="who fell",
                         purpose="safety", remote=False, actor=MANAGER)  # fmt: skip
    assert out.exists() and list(ledger.viewing_copies(sid)) == [str(out)]


def test_verify_reports_check_of_a_copy_not_found_reads_the_segments_events(
    ledger: Ledger,
) -> None:
    """The attention item for a viewing copy not found holds only if the segment's events
    record one, and names that copy and who made it and no other (the session 19 review:
    an item naming another path or another viewer passed); an item made up for a segment
    whose copies were destroyed does not."""
    from ledger.footage import segment_aggregate_id
    from ledger.report_proofs import row_check
    from projections.compliance import desk

    found, clean = segment(ledger, 0), segment(ledger, 1)
    gone = view(ledger, found, MANAGER)
    gone.unlink()
    end_viewing(ledger, found, actor=MANAGER)
    view(ledger, clean, MANAGER)
    end_viewing(ledger, clean, actor=MANAGER)
    [item] = [a for a in desk(ledger, ledger.clock()).attention
              if a.rule_id == "FOOTAGE-VIEWING-COPY"]  # fmt: skip
    assert str(gone) in item.text

    def check(sid: str, text: str = item.text) -> str | None:
        events = [ledger.mapper.to_domain_event(e)
                  for e in ledger.recorder.select_events(segment_aggregate_id(sid))]  # fmt: skip
        row = {"rule_id": "FOOTAGE-VIEWING-COPY", "subject_id": sid, "severity": "warning",
               "text": text}  # fmt: skip
        return row_check("attention", row, events)

    assert check(found) is None
    assert check(clean) == "the events record no viewing copy not found"
    elsewhere = item.text.replace(str(gone), "/media/usb/other.mp4")
    assert check(found, elsewhere) == f"the item does not name the copy {gone} made by {MANAGER}"
    assert check(found, item.text.replace(f"made by {MANAGER}", f"made by {DIRECTOR}")) == (
        f"the item does not name the copy {gone} made by {MANAGER}"
    )
    more = item.text.replace("):", "; /tmp/x.mp4, made by Dana on 1 Nov):")
    assert (
        check(found, more) == "the item names other copies than the 1 the events record not found"
    )
