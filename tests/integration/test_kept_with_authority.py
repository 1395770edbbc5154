"""Footage kept past its deadline under a flag or a hold was kept with authority until the
flag ended or the hold was lifted (R13, R14, R15; red team, session 14).

Before, a flag cleared or a hold lifted after the segment's 30 days made the segment read
as overdue since the deadline itself ("30 days overdue") and its purge, made promptly
after, as a late purge: the board was told of a violation that never happened. On SQLite
and PostgreSQL: a flagged segment, a held segment and a plain one, all past their
deadline; the flag cleared and the hold released ten days after it; the sweep an hour
later. Only the plain segment's purge is late.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from ledger.app import Ledger
from projections.compliance import compile_compliance_report
from projections.registry import read_views
from projections.retention import due_for_purge, segment_rows_by_id
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger


def _one_segment(ledger: Ledger, folder: Path) -> tuple[str, datetime]:
    """One clip ingested: its segment id and its retention deadline."""
    (outcome,) = ingest_paths(ledger, [clip(folder / "in", 0)], camera=CAMERA, actor=STAFF).outcomes
    segment = outcome.segment_id or ""
    (row,) = read_views(ledger, lambda c: segment_rows_by_id(c, [segment], ledger.clock()))
    return segment, row.deadline


def test_a_flag_cleared_or_a_hold_lifted_after_the_deadline_makes_no_late_purge(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    files = [clip(tmp_path / "in", n) for n in range(3)]
    outcomes = ingest_paths(ledger, files, camera=CAMERA, actor=STAFF).outcomes
    flagged, held, plain = (o.segment_id or "" for o in outcomes)
    rows = read_views(ledger, lambda c: segment_rows_by_id(c, [flagged, plain], ledger.clock()))
    deadline, plain_deadline = (
        r.deadline for r in sorted(rows, key=lambda r: r.segment_id != flagged)
    )
    flag = ledger.flag(
        flagged, incident="IR-7 fall", reason="a patron fell", actor=DIRECTOR,
        retain_until=deadline + timedelta(days=20),
    )  # fmt: skip
    hold = ledger.place_hold(
        [held], kind="legal", reason="claim letter from counsel", reference="CLAIM-8",
        actor=DIRECTOR, review_by=deadline + timedelta(days=30),
    )  # fmt: skip

    cleared = deadline + timedelta(days=10)
    ledger.clock.set(cleared)
    ledger.clear_flag(flagged, flag, reason="the incident is closed", actor=DIRECTOR)
    ledger.release_hold(hold, reason="the claim was settled", actor=DIRECTOR)
    ledger.clock.set(cleared + timedelta(minutes=5))

    def status(now):  # type: ignore[no-untyped-def]
        return {
            r.segment_id: (r.status, r.keep_until)
            for r in read_views(
                ledger, lambda c: segment_rows_by_id(c, [flagged, held, plain], now)
            )
        }

    now = ledger.clock()
    assert status(now) == {
        flagged: ("due", cleared),  # kept under its flag until it was cleared
        held: ("due", cleared),  # kept under the hold until it was lifted
        plain: ("overdue", plain_deadline),  # ten days past its deadline, no authority
    }
    # a day after the lift, without a purge, they are overdue too (R15's one day)
    later = status(cleared + timedelta(days=1, minutes=1))
    assert {s for s, _ in later.values()} == {"overdue"}

    ledger.clock.set(cleared + timedelta(hours=1))
    due = read_views(ledger, lambda c: due_for_purge(c, ledger.clock()))
    assert {r.segment_id for r in due} == {flagged, held, plain}
    sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    ledger.clock.set(cleared + timedelta(hours=2))
    assert ledger.datadir is not None
    day = cleared.date()
    report, _ = compile_compliance_report(
        ledger, period_from=day - timedelta(days=1), period_to=day, actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    ledger.close()
    counts = report.retention.counts
    assert (counts.purged_on_time, counts.purged_late) == (2, 1)


def test_a_periods_report_made_later_counts_what_was_overdue_at_its_end(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team (session 14): the November report, made on 4 December after a sweep had
    purged November's overdue footage, said every purge was on time and nothing overdue.
    A report made after its period counts what was overdue at the period's end (read as of
    then), says so in an attention item, and its JSON carries the count."""
    from projections.render_data import to_json
    from projections.render_html import render_html

    ledger = footage_ledger(data_dir)
    _, deadline = _one_segment(ledger, tmp_path)
    last_day = (deadline + timedelta(days=5)).date()  # the period ends 4-5 days after it
    ledger.clock.set(deadline + timedelta(days=9))  # the sweep runs days after the period
    due = read_views(ledger, lambda c: due_for_purge(c, ledger.clock()))
    sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    assert ledger.datadir is not None

    def report(as_of=None):  # type: ignore[no-untyped-def]
        made, _ = compile_compliance_report(
            ledger, period_from=last_day - timedelta(days=6), period_to=last_day,
            actor=DIRECTOR, now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
            as_of=as_of,
        )  # fmt: skip
        return made

    within = report(as_of=deadline + timedelta(days=3))  # its state is the period's own
    assert within.retention.counts.overdue_at_period_end is None
    assert within.retention.counts.overdue_now == 1
    assert "Overdue at its end" not in render_html(within)
    ledger.clock.set(deadline + timedelta(days=10))
    later = report()
    counts = later.retention.counts
    assert (counts.purged_late, counts.overdue_now, counts.overdue_at_period_end) == (0, 0, 1)
    said = [a.text for a in later.attention if a.subject_id == "retention at period end"]
    assert len(said) == 1 and "1 segment was kept more than a day past the deadline" in said[0]
    assert json.loads(to_json(later))["retention"]["counts"]["overdue_at_period_end"] == 1
    assert "Overdue at its end" in render_html(later)
    ledger.close()


def test_a_hold_placed_on_overdue_footage_says_it_was_overdue_until_then(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team (session 14): the Director's hold on footage already overdue took it off
    the overdue list and the report showed it as any held segment. The held row now says
    when the hold was placed and that the footage was overdue until then; verify-report
    checks the time against the hold's event."""
    from ledger.report_proofs import row_check
    from projections.render_data import to_json
    from projections.render_html import render_html

    ledger = footage_ledger(data_dir)
    segment, deadline = _one_segment(ledger, tmp_path)
    ledger.clock.set(deadline + timedelta(days=12))
    ledger.place_hold(
        [segment], kind="legal", reason="claim letter from counsel", reference="CLAIM-9",
        actor=DIRECTOR, review_by=deadline + timedelta(days=40),
    )  # fmt: skip
    assert ledger.datadir is not None
    day = ledger.clock().date()
    report, _ = compile_compliance_report(
        ledger, period_from=day - timedelta(days=2), period_to=day, actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    (held,) = report.retention.held
    assert held.placed_at == deadline + timedelta(days=12)
    assert "12 days after the deadline: overdue until then" in render_html(report)
    (row,) = json.loads(to_json(report))["retention"]["held"]
    events = [
        ledger.mapper.to_domain_event(n) for n in ledger.recorder.select_notifications(1, 10_000)
    ]
    assert row_check("held", row, events) is None
    moved = {**row, "placed_at": (deadline - timedelta(days=1)).isoformat()}
    assert "placed_at" in str(row_check("held", moved, events))
    ledger.close()


def test_holding_and_releasing_overdue_footage_does_not_make_its_purge_on_time(
    data_dir: Path, tmp_path: Path
) -> None:
    """Review (session 14): a hold's lift extends what kept the segment only when the
    hold was placed before the segment was overdue. Otherwise the Director could hold
    footage twelve days overdue, release it a minute later, and its purge would read as
    on time."""
    ledger = footage_ledger(data_dir)
    segment, deadline = _one_segment(ledger, tmp_path)
    ledger.clock.set(deadline + timedelta(days=12))
    hold = ledger.place_hold(
        [segment], kind="legal", reason="claim letter from counsel", reference="CLAIM-10",
        actor=DIRECTOR, review_by=deadline + timedelta(days=40),
    )  # fmt: skip
    ledger.clock.set(deadline + timedelta(days=12, minutes=1))
    ledger.release_hold(hold, reason="no claim after all", actor=DIRECTOR)
    now = ledger.clock()
    (row,) = read_views(ledger, lambda c: segment_rows_by_id(c, [segment], now))
    assert (row.status, row.keep_until) == ("overdue", deadline)
    due = read_views(ledger, lambda c: due_for_purge(c, now))
    sweep(ledger, open_vault(ledger), due, actor=ledger.act_as_service())
    ledger.clock.set(now + timedelta(hours=1))
    assert ledger.datadir is not None
    day = now.date()
    report, _ = compile_compliance_report(
        ledger, period_from=day, period_to=day, actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    ledger.close()
    assert (report.retention.counts.purged_on_time, report.retention.counts.purged_late) == (0, 1)
