"""Purges a sweep recorded by a clock set ahead, once the Director sets their time aside
(R26, R13), on both databases.

Outside review, session 17 (left then, taken up in session 18): a sweep run under a clock
a month ahead destroyed footage early; after the Director's correction the compliance
report counted that purge by its recorded time, in the month the wrong clock said, as
late, and nothing said it may have been destroyed early. Now the report (and the home
page's list) names each such purge: a violation when the footage was to be kept past the
correction, a warning otherwise; and verify-report checks the item against the purge's
and the correction's events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from cli.main import custodes
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.footage import segment_aggregate_id
from ledger.report_proofs import row_check
from ledger.site import SITE_ID
from projections.compliance import desk
from projections.registry import read_views
from projections.retention import due_for_purge
from tests.conftest import NOW
from tests.identity import CustodesRunner, open_test_ledger
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger

SEPTEMBER = datetime(2026, 9, 20, 8, 30, tzinfo=UTC)  # kept until about 20 October
AHEAD = NOW + timedelta(days=40)  # the sweep's clock: 12 December
CORRECTED = NOW + timedelta(hours=1)
LATER = NOW + timedelta(hours=2)


def _scenario(data_dir: Path, tmp_path: Path) -> tuple[str, str, str]:
    """An old clip (its retention ended in October, the sweep had not run), a new one
    (kept until about 1 December), both purged by a sweep whose clock was 40 days ahead,
    the Director's correction an hour later, and a third clip taken in after it."""
    ledger = footage_ledger(data_dir)
    ledger.clock.set(SEPTEMBER + timedelta(hours=4))
    [old] = ingest_paths(ledger, [clip(tmp_path / "a", start=SEPTEMBER)], camera=CAMERA,
                         actor=STAFF).outcomes  # fmt: skip
    ledger.clock.set(NOW)
    [new] = ingest_paths(ledger, [clip(tmp_path / "b")], camera=CAMERA, actor=STAFF).outcomes
    ledger.clock.set(AHEAD)  # e.g. faketime +40d, or a host on SQLite whose clock jumped
    due = read_views(ledger, lambda conn: due_for_purge(conn, AHEAD))
    done = sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert [o.status for o in done.outcomes] == ["purged", "purged"]
    ledger.clock.set(CORRECTED)
    ledger.correct_clock(reason="the sweep host's clock was 40 days ahead", actor=DIRECTOR)
    ledger.clock.set(CORRECTED + timedelta(minutes=30))
    [kept] = ingest_paths(ledger, [clip(tmp_path / "c", start=NOW - timedelta(hours=1))],
                          camera=CAMERA, actor=STAFF).outcomes  # fmt: skip
    ledger.close()
    return old.segment_id or "", new.segment_id or "", kept.segment_id or ""


def test_the_report_names_each_purge_set_aside_and_verify_report_checks_it(
    data_dir: Path, tmp_path: Path
) -> None:
    old, new, kept = _scenario(data_dir, tmp_path)
    run = CustodesRunner()
    base = ["--data-dir", str(data_dir)]
    out = tmp_path / "report.json"
    made = run.invoke(
        custodes,
        [*base, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
         "--format", "json", "--out", str(out)],
        obj=ManualClock(LATER),
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    report = json.loads(out.read_text())
    items = {a["subject_id"]: a for a in report["attention"] if a["rule_id"] == "FOOTAGE-RETENTION"}
    corrected = "clock correction 2026-11-02T16:00:00Z"
    early, maybe = items[f"{new} {corrected}"], items[f"{old} {corrected}"]
    assert early["severity"] == "violation"
    assert f"Segment {new} ({CAMERA}) was destroyed before its retention ended" in early["text"]
    assert "a time the Director set aside on" in early["text"]
    assert maybe["severity"] == "warning"
    assert f"Segment {old} ({CAMERA}) may have been destroyed before" in maybe["text"]
    assert "The ledger shows only that it was destroyed before then" in maybe["text"]
    assert not any(kept in s for s in items)

    key = tmp_path / "library.pem"
    key.write_text(
        run.invoke(custodes, [*base, "keys", "export-public"], obj=ManualClock(LATER)).stdout
    )
    check = [*base, "verify-report", str(out), "--key", str(key), "--events"]
    verified = run.invoke(custodes, check, obj=ManualClock(LATER))
    assert verified.exit_code == 0, verified.output

    # another subject's item: its entries are of the segment and the site, not these
    forged = json.loads(json.dumps(report))
    for a in forged["attention"]:
        if a["subject_id"] == f"{new} {corrected}":
            a["subject_id"] = f"{kept} {corrected}"
    for row in forged["proofs"]["rows"]:
        if row["table"] == "attention" and row["ref"] == f"FOOTAGE-RETENTION {new} {corrected}":
            row["ref"] = f"FOOTAGE-RETENTION {kept} {corrected}"
    out.write_text(json.dumps(forged))
    caught = run.invoke(custodes, check, obj=ManualClock(LATER))
    assert caught.exit_code == 3 and "attention row" in caught.stderr, caught.output


def _events(ledger: Ledger, *segments: str) -> list:
    ids = [*(segment_aggregate_id(s) for s in segments), SITE_ID]
    return [ledger.mapper.to_domain_event(e) for i in ids for e in ledger.recorder.select_events(i)]


def test_verify_reports_check_reads_the_purge_and_the_correction(
    data_dir: Path, tmp_path: Path
) -> None:
    """``row_check`` as verify-report runs it once the proofs hold: the item's claim
    against the segment's and the site's events."""
    old, new, kept = _scenario(data_dir, tmp_path)
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    corrected = "clock correction 2026-11-02T16:00:00Z"

    def check(segment: str, subject: str, *of: str) -> str | None:
        row = {"rule_id": "FOOTAGE-RETENTION", "subject_id": subject, "severity": "warning"}
        return row_check("attention", row, _events(ledger, *(of or (segment,))))

    assert check(new, f"{new} {corrected}") is None
    assert check(old, f"{old} {corrected}") is None
    assert check(kept, f"{kept} {corrected}") == "the events record no purge of the segment"
    assert check(new, f"{new} clock correction 2026-11-03T00:00:00Z") == (
        "the events record no clock correction then"
    )
    assert check(new, f"{new} {corrected}", old) == f"the events are not of segment {new}"
    # a purge timed outside what the correction set aside (here: its time moved back to
    # the correction's own), as a purge recorded by a trusted clock would be
    events = _events(ledger, new)
    moved = []
    for e in events:
        if type(e).__name__ == "FootagePurged":
            e = copy.copy(e)
            object.__setattr__(e, "timestamp", CORRECTED)
        moved.append(e)
    row = {"rule_id": "FOOTAGE-RETENTION", "subject_id": f"{new} {corrected}"}
    assert row_check("attention", row, moved) == (
        "the segment's purge is not among the times that clock correction set aside"
    )
    ledger.close()


def test_a_purge_recorded_after_the_correction_is_not_read_as_set_aside_by_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """The session 19 review: verify-report read a purge as set aside by its time alone,
    so a purge a trusted clock recorded after the correction, at a time within the span
    the correction set aside (the correction was at 16:00 on 2 November, the acts it set
    aside were timed up to 12 December), passed as one. Now the entries' positions say:
    an act set aside lies between the first act the correction names and the correction."""
    _, _, kept = _scenario(data_dir, tmp_path)
    later = NOW + timedelta(days=31)  # before 12 December: within the span set aside
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(later))
    due = read_views(ledger, lambda conn: due_for_purge(conn, later))
    assert [d.segment_id for d in due] == [kept]
    done = sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert [o.status for o in done.outcomes] == ["purged"]
    events = _events(ledger, kept)
    reader = ledger.chain_reader()
    positions = [
        reader.entry(originator=(e.originator_id, e.originator_version))[4] for e in events
    ]
    row = {"rule_id": "FOOTAGE-RETENTION", "severity": "violation",
           "subject_id": f"{kept} clock correction 2026-11-02T16:00:00Z"}  # fmt: skip
    assert row_check("attention", row, events) is None  # by times alone: the old reading
    assert row_check("attention", row, events, positions) == (
        "the segment's purge is not among the times that clock correction set aside"
    )
    # as of the correction's day, the purge (recorded weeks later) was not there yet
    as_of = CORRECTED + timedelta(hours=2)
    assert row_check("attention", row, events, as_of=as_of) is None  # by times alone
    assert row_check("attention", row, events, positions, as_of=as_of) == (
        "the events record no purge of the segment"
    )
    ledger.close()


def test_the_home_page_lists_them_too(data_dir: Path, tmp_path: Path) -> None:
    old, new, _ = _scenario(data_dir, tmp_path)
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(LATER))
    found = [a for a in desk(ledger, LATER).attention if " clock correction " in a.subject_id]
    assert {(a.severity, a.subject_id.split()[0]) for a in found} == {
        ("violation", new),
        ("warning", old),
    }
    [purge_new] = [p for p in ledger.set_aside_purges() if p.segment_id == new]
    assert purge_new.recorded == AHEAD and purge_new.correction == CORRECTED
    assert purge_new.after == NOW  # the last act a trusted clock recorded: the new clip's intake
    assert ledger.set_aside_purges(until=NOW) == []  # not yet corrected then
    ledger.close()


def test_a_purge_timed_after_the_last_act_set_aside_is_still_among_them(
    data_dir: Path, tmp_path: Path
) -> None:
    """The session 18 review: an act may be timed up to the clocks' tolerance before the
    one preceding it, so a purge set aside can be later than the last act's time (the
    correction's ``set_aside``), and verify-report's check failed that honest item. The
    correction records the latest time among the acts it sets aside, and ``verify``
    checks that it does."""
    ledger = footage_ledger(data_dir)
    ledger.clock.set(NOW)
    [new] = ingest_paths(ledger, [clip(tmp_path / "b")], camera=CAMERA, actor=STAFF).outcomes
    ledger.clock.set(AHEAD)
    due = read_views(ledger, lambda conn: due_for_purge(conn, AHEAD))
    assert [o.status for o in sweep(ledger, open_vault(ledger), due,
                                    actor=ledger.act_as_service()).outcomes] == ["purged"]  # fmt: skip
    ledger.clock.set(AHEAD - timedelta(minutes=1))  # within the tolerance: recorded
    ingest_paths(ledger, [clip(tmp_path / "c", start=NOW)], camera=CAMERA, actor=STAFF)
    ledger.clock.set(CORRECTED)
    ledger.correct_clock(reason="the sweep host's clock was 40 days ahead", actor=DIRECTOR)
    segment = new.segment_id or ""
    events = _events(ledger, segment)
    [correction] = [e for e in events if type(e).__name__ == "ClockCorrected"]
    purge_time = next(e.timestamp for e in events if type(e).__name__ == "FootagePurged")
    assert datetime.fromisoformat(correction.set_aside.replace("Z", "+00:00")) < purge_time
    assert datetime.fromisoformat(correction.latest.replace("Z", "+00:00")) == purge_time
    row = {"rule_id": "FOOTAGE-RETENTION", "severity": "violation",
           "subject_id": f"{segment} clock correction 2026-11-02T16:00:00Z"}  # fmt: skip
    assert row_check("attention", row, events) is None
    ledger.close()
    run = CustodesRunner()
    verified = run.invoke(custodes, ["--data-dir", str(data_dir), "verify"],
                          obj=ManualClock(LATER))  # fmt: skip
    assert verified.exit_code == 0, verified.output


def test_as_of_a_time_after_the_correction_the_purges_it_set_aside_are_there(
    data_dir: Path, tmp_path: Path
) -> None:
    """The session 18 review: as of a time between the correction and the purges' wrong
    time (40 days ahead), the purges were left out (their recorded time is later), so the
    footage read as stored and the report as of then named nothing. An act a correction
    set aside counts as recorded by the correction, before which it came in the log."""
    old, new, kept = _scenario(data_dir, tmp_path)
    run = CustodesRunner()
    base = ["--data-dir", str(data_dir)]
    at = "2026-11-02T18:00:00Z"  # after the correction (16:00), weeks before 12 December
    clock = ManualClock(LATER + timedelta(days=1))
    listed = run.invoke(custodes, [*base, "footage", "list", "--json", "--as-of", at], obj=clock)
    assert listed.exit_code == 0, listed.output
    status = {r["segment_id"]: r["status"] for r in json.loads(listed.stdout)}
    assert status[new] == status[old] == "purged" and status[kept] != "purged", status
    before = run.invoke(custodes, [*base, "footage", "list", "--json", "--as-of",
                                   "2026-11-02T15:30:00Z"], obj=clock)  # fmt: skip
    assert {r["segment_id"]: r["status"] for r in json.loads(before.stdout)}[new] != "purged"
    shown = run.invoke(custodes, [*base, "history", new, "--json", "--as-of", at], obj=clock)
    assert shown.exit_code == 0, shown.output
    assert "FootagePurged" in shown.stdout

    out = tmp_path / "as-of.json"
    made = run.invoke(
        custodes,
        [*base, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
         "--as-of", at, "--format", "json", "--out", str(out)],
        obj=clock,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    report = json.loads(out.read_text())
    subjects = {a["subject_id"] for a in report["attention"] if a["rule_id"] == "FOOTAGE-RETENTION"}
    corrected = "clock correction 2026-11-02T16:00:00Z"
    assert {f"{new} {corrected}", f"{old} {corrected}"} <= subjects
    key = tmp_path / "library.pem"
    key.write_text(run.invoke(custodes, [*base, "keys", "export-public"], obj=clock).stdout)
    verified = run.invoke(
        custodes, [*base, "verify-report", str(out), "--key", str(key), "--events"], obj=clock
    )
    assert verified.exit_code == 0, verified.output
