"""Fill the Director's compliance report (``compliance_model``) from the read models.

Only projections are read, never the log: with the views as of T (``projections.asof``) the same code gives the
report exactly as it would have been at T (the views replay events recorded up to T). The
state-dependent parts (overdue purges, open follow-ups, FOIA clocks, holds to review) are
judged at the reference time: ``as_of`` when given, else ``now``.

The period is whole site-local days, ``period_from`` to ``period_to`` inclusive (R24).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from ledger import rules, sitetime
from ledger.app import Ledger
from ledger.checkpoint import public_key_fingerprint
from ledger.clock_commands import SetAsidePurge
from ledger.evidence import sha256_file, sums_text
from ledger.integrity import open_chain, read_verified, sign_verified, verified
from ledger.permissions import REPORT_ROLES
from ledger.policy_versions import Timeline
from ledger.report_proofs import prove_rows, report_rows
from projections.access import AccessReport, access_report
from projections.asof import TimeIndexProjection, views_as_of
from projections.attention import needs_attention
from projections.base import Projection, Views, catch_up_together
from projections.cameras import (
    authority_text,
    camera_records,
    refused_registrations,
    schedule_authority,
)
from projections.checked import checked
from projections.compliance_model import (
    Access,
    AttentionItem,
    CameraRow,
    Cameras,
    CameraTimeline,
    CitedRule,
    ComplianceReport,
    DisclosureRow,
    Disclosures,
    HeldSegment,
    Integrity,
    OverdueSegment,
    Policy,
    PolicyVersionRow,
    PurgeGroup,
    RefusalRow,
    RefusedAccess,
    RefusedCamera,
    ReportHeader,
    Retention,
    RetentionCounts,
    RetentionGroup,
    RetentionSettings,
    SegmentRetention,
    StaffNote,
    TimelineBar,
    Viewing,
)
from projections.disclosures import DisclosureRow as RegisterRow
from projections.disclosures import disclosures, register_brief, taken_in
from projections.history import SubjectIndexProjection
from projections.proof_sources import event_sources
from projections.refusals import refused_attempts
from projections.registry import all_projections, open_views, read_views
from projections.render_data import plain, to_dict
from projections.retention import (
    STATUSES,
    RetentionProjection,
    flags,
    hold_segments,
    holds,
    late_purges_in,
    overdue_count,
    purges_in,
    segment_rows,
    segment_rows_by_id,
    segments,
    site_settings,
    status_counts,
)
from projections.retention_terms import (
    Terms,
    purge_groups,
    recorded_groups,
    terms_of,
    terms_purged,
    terms_recorded,
)

# A segment found missing is no longer kept: on the timeline like a purged one; the
# attention list says it was destroyed outside Custodes.
_TIMELINE_STATUS = {"due": "retained", "missing": "purged"}


def report_projections() -> list[Projection]:
    """The read models the compliance report reads (every one but the subject index)."""
    return [p for p in all_projections() if not isinstance(p, SubjectIndexProjection)]


def compile_compliance_report(
    ledger: Ledger,
    *,
    period_from: date,
    period_to: date,
    actor: str,
    now: datetime,
    signing_key: Any,
    as_of: datetime | None = None,
    vault_audit: Callable[[], Sequence[tuple[str, str]]] | None = None,
    record_findings: Callable[[], object] | None = None,
) -> tuple[ComplianceReport, str]:
    """The whole use-case: verify the ledger (LedgerTampered, exit 3, before any event is
    read), check who asks (a refusal is recorded), build the report from the read models
    (as they were at ``as_of`` when given), check every table it read against its seal
    (R29: ReadModelTampered, exit 3, nothing signed), and only then sign a checkpoint
    over exactly the verified entries. Returns the report and the signed checkpoint
    note.

    Without ``as_of``: ``vault_audit`` lists, with every read, footage found gone and not
    recorded; when it lists any and the read checked out, ``record_findings`` records
    them if the one asking may (``capture.audit.record_findings``) and the report is read
    again, so those findings rest on events under the checkpoint."""
    assert ledger.datadir is not None
    reader = open_chain(ledger.datadir)
    outcome = verified(reader)
    site = ledger.site()
    who = ledger.authorize(
        actor,
        "report compliance",
        REPORT_ROLES,
        rules.STAFF_ROLE,
        subject=f"{period_from}..{period_to}",
    )
    overdue_at_end = _overdue_at_end(ledger, period_from, period_to, as_of or now)

    def read(outcome: Any) -> tuple[ComplianceReport, dict[str, list[int]], Integrity]:
        # The vault audited only once the ledger verified (it reads the events' read
        # models), and again with every read: (segment id, what is wrong) for footage
        # found gone and not recorded yet (a purge recorded meanwhile records it).
        missing = vault_audit() if vault_audit is not None and as_of is None else ()
        integrity = _integrity(ledger, reader, outcome)
        report, sources = _read(
            ledger, who.name, period_from, period_to, now, as_of, integrity, missing,
            overdue_at_end,
        )  # fmt: skip
        if missing and record_findings is not None:
            # recorded only once the read models checked out (a forged row records
            # nothing); the log grew, so ``read_verified`` reads again, finding them
            # recorded, and the checkpoint holds them
            record_findings()
        return report, sources, integrity

    # Signed over the log as the read models were read (a request, viewing or refusal
    # recorded meanwhile is under the checkpoint), and read again while the log grew under
    # it (``read_verified``); as of a past time, what is recorded now is not the report's.
    (report, sources, integrity), outcome = read_verified(
        reader, outcome, read, settle=as_of is None
    )
    if integrity.tree_size != outcome.tree_size:
        integrity = _integrity(ledger, reader, outcome)
    cp, note = sign_verified(outcome, origin=site.log_origin, signing_key=signing_key, now=now)
    assert cp.size == integrity.tree_size
    report = dataclasses.replace(report, integrity=dataclasses.replace(integrity, checkpoint=note))
    # Every row's log entries, proven against the checkpoint (ledger.report_proofs).
    rows = report_rows(to_dict(report))
    report = dataclasses.replace(report, proofs=prove_rows(reader, cp, note, rows, sources))
    return report, note


def _read(
    ledger: Ledger,
    generated_by: str,
    period_from: date,
    period_to: date,
    now: datetime,
    as_of: datetime | None,
    integrity: Integrity,
    unrecorded_missing: Sequence[tuple[str, str]],
    overdue_at_end: int | None,
) -> tuple[ComplianceReport, dict[str, list[int]]]:
    """The report built from the read models (as they were at ``as_of`` when given), every
    table it read checked against its seal (R29: a mismatch raises ReadModelTampered,
    nothing is signed), and its one-event rows' notification ids."""
    if as_of is None:
        views = open_views(ledger)
    else:
        # Only the read models the report reads, as they were at ``as_of`` (the subject
        # index, for history, is not one of them).
        views = views_as_of(ledger, report_projections(), as_of)
    zone = ledger.site().zone
    try:
        return checked(
            views,
            lambda v: (
                build_compliance_report(
                    ledger,
                    v,
                    period_from=period_from,
                    period_to=period_to,
                    now=now,
                    generated_by=generated_by,
                    integrity=integrity,
                    as_of=as_of,
                    unrecorded_missing=unrecorded_missing,
                    overdue_at_end=overdue_at_end,
                ),
                _event_sources(v, zone, period_from, period_to),
            ),
        )
    finally:
        views.close()


def _integrity(ledger: Ledger, reader: Any, outcome: Any) -> Integrity:
    """The report's integrity block for a verification (its checkpoint signed later)."""
    assert ledger.datadir is not None
    head = reader.entry(position=outcome.tree_size)
    return Integrity(
        verified=True,
        entries=outcome.verify.count,
        chain_head=bytes(head[7]).hex() if head else "",
        tree_size=outcome.tree_size,
        merkle_root=(outcome.tree_root or b"").hex(),
        checkpoint="",
        key_fingerprint=public_key_fingerprint(ledger.datadir.public_key()),
    )


def _overdue_at_end(ledger: Ledger, first: date, last: date, ref: datetime) -> int | None:
    """How many segments were overdue (more than a day past their deadline, after flags
    and holds, not purged) at the end of the period, read from the retention read model
    as it was then (checked, R29); None when ``ref`` is not after the period."""
    _start, end = sitetime.days(first, last, ledger.site().zone)
    if ref <= end:
        return None
    views = views_as_of(ledger, [RetentionProjection()], end)
    try:
        return checked(views, lambda v: _count_overdue(v, end))
    finally:
        views.close()


def _count_overdue(views: Views, at: datetime) -> int:
    with views.connect() as conn:
        return overdue_count(conn, at)


def _event_sources(views: Views, zone: Any, first: date, last: date) -> dict[str, list[int]]:
    start, end = sitetime.days(first, last, zone)
    with views.connect() as conn:
        return event_sources(conn, start, end)


def _corrections(
    site: Any, start: datetime, end: datetime, held: set[datetime] | None = None
) -> list[Any]:
    """The Director's clock corrections recorded from ``start`` until ``end`` (R26);
    ``held``: only those recorded at these times (those a checkpoint holds)."""
    return [
        c
        for c in site.clock_corrections
        if start <= c.timestamp <= end and (held is None or c.timestamp in held)
    ]


def _set_aside(
    ledger: Ledger,
    site: Any,
    start: datetime,
    end: datetime,
    ref: datetime,
    held_by: int | None = None,
) -> list[SetAsidePurge]:
    """The purges among acts a clock correction set aside (R26) that concern the period
    ``[start, end)``: set aside in it, or counted in it by their recorded time. Read from
    the log only when the site records a correction. Only corrections recorded by
    ``ref``; a purge one set aside came before it in the log, whatever its own time (the
    session 18 review: a report as of a day between the correction and the purge's
    wrong time left the purge out)."""
    if not site.clock_corrections:
        return []
    return [
        p
        for p in ledger.set_aside_purges(until=ref, held_by=held_by)
        if start <= p.correction <= min(end, ref) or start <= p.recorded < end
    ]


# The report's tables that are states computed over every segment, request and hold at
# the report's time (not one row per event): what ``replayed_state_rows`` recomputes.
STATE_TABLES = ("held", "overdue", "attention")


def replayed_state_rows(
    ledger: Ledger,
    *,
    stop: int,
    period_from: date,
    period_to: date,
    now: datetime,
    as_of: datetime | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The compliance report's footage held, overdue and attention rows (``STATE_TABLES``),
    and under "retention" the rest of its retention section (held and overdue emptied),
    as the ledger's events up to notification ``stop`` (and recorded by ``as_of``) make
    them at ``as_of or now``: the read models they are made from replayed in memory from
    the log, not the kept ones (the library holds the seal key, so a read model changed
    and sealed again would agree with a report made from it), then the report's own code
    (``_states``). For ``verify-report --events``: a held segment or overdue one left out
    of the board's report, the file recorded as issued, is found by comparing with these.
    The log is read once (``progress``: the notifications read, as they are)."""
    ref = as_of or now
    start, end = sitetime.days(period_from, period_to, ledger.site().zone)
    views = Views(ledger, state_projections(), as_of=as_of, scratch=as_of is None)
    # as ``_overdue_at_end`` counts them: from the events recorded by the period's end
    at_end = Views(ledger, [RetentionProjection()], as_of=end) if ref > end else None
    try:
        catch_up_together([views, *([at_end] if at_end else [])], stop=stop, progress=progress)
        overdue_at_end = None if at_end is None else _count_overdue(at_end, end)
        with views.connect() as conn:
            viewed = {v.segment_id for v in access_report(conn, start, end).viewings}
            retention, attention = _states(
                ledger, conn, start, end, ref, viewed, overdue_at_end, held_by=stop
            )  # fmt: skip
    finally:
        views.close()
        if at_end is not None:
            at_end.close()
    made = {"held": retention.held, "overdue": retention.overdue, "attention": attention}
    rows: dict[str, Any] = {table: plain(made[table]) for table in STATE_TABLES}
    # the rest of the retention section (its counts, the segments listed, the timeline)
    rows["retention"] = plain(dataclasses.replace(retention, held=(), overdue=()))
    return rows


def state_projections() -> list[Projection]:
    """The read models ``_states`` reads: every one the report reads but the time index
    (which reads every event, the others only their kinds)."""
    return [p for p in report_projections() if not isinstance(p, TimeIndexProjection)]


def build_compliance_report(
    ledger: Ledger,
    views: Views,
    *,
    period_from: date,
    period_to: date,
    now: datetime,
    generated_by: str,
    integrity: Integrity,
    checkpoint_note: str | None = None,
    as_of: datetime | None = None,
    unrecorded_missing: Sequence[tuple[str, str]] = (),
    overdue_at_end: int | None = None,
) -> ComplianceReport:
    """The report for a period; ``integrity`` carries the verification and checkpoint
    (the caller verifies the ledger and signs the checkpoint before calling this).
    ``unrecorded_missing``: (segment id, what is wrong) for footage the vault audit found
    gone and the ledger does not record yet (``capture.audit``)."""
    site = ledger.site()
    zone = site.zone
    ref = as_of or now
    start, end = sitetime.days(period_from, period_to, zone)
    if checkpoint_note is not None:
        integrity = dataclasses.replace(integrity, checkpoint=checkpoint_note)
    with views.connect() as conn:
        in_period = disclosures(conn, start, end, set_aside=ledger.set_aside_spans(until=ref))
        refusals = refused_attempts(conn, start, end)
        acting = acting_lookup(ledger)
        access = _access(conn, start, end, acting)
        retention, attention = _states(
            ledger, conn, start, end, ref, {v.segment_id for v in access.viewings},
            overdue_at_end, unrecorded_missing,
        )  # fmt: skip
        report = ComplianceReport(
            header=ReportHeader(
                library=site.library,
                site_timezone=site.timezone,
                period_from=period_from,
                period_to=period_to,
                generated_at=now,
                as_of=as_of,
                generated_by=generated_by,
            ),
            attention=attention,
            integrity=integrity,
            cameras=_cameras(conn, start, end, ref),
            retention=retention,
            access=access,
            disclosures=_disclosures(in_period),
            refusals=tuple(_refusal(r, acting) for r in refusals),
            policy=_policy(
                ledger, start, end, ref, {r.rule_id for r in refusals}, retention.by_version
            ),
        )
    return report


def _states(
    ledger: Ledger,
    conn: Connection,
    start: datetime,
    end: datetime,
    ref: datetime,
    viewed: set[str],
    overdue_at_end: int | None,
    unrecorded_missing: Sequence[tuple[str, str]] = (),
    held_by: int | None = None,
) -> tuple[Retention, tuple[AttentionItem, ...]]:
    """The report's retention (footage held and overdue among it) and attention list:
    states at ``ref`` over every segment, request and hold (``STATE_TABLES``), from the
    retention, access, disclosure and camera read models. ``viewed``: the segments viewed
    in the period, listed with their retention too. ``held_by``: only the clock
    corrections among the log's events up to that notification id (a checkpoint's)."""
    site = ledger.site()
    held = None
    if held_by is not None:
        held = {e.timestamp for _n, e in ledger.clock_corrections_recorded(held_by=held_by)}
    retention = _retention(conn, start, end, ref, viewed=viewed)
    retention = dataclasses.replace(
        retention,
        counts=dataclasses.replace(retention.counts, overdue_at_period_end=overdue_at_end),
    )
    attention = needs_attention(
        conn, disclosures(conn), retention, ref, site.zone, unrecorded_missing,
        corrections=_corrections(site, start, min(end, ref), held),
        set_aside=_set_aside(ledger, site, start, end, ref, held_by),
    )  # fmt: skip
    return retention, tuple(attention)


def _policy(
    ledger: Ledger,
    start: datetime,
    end: datetime,
    ref: datetime,
    cited: set[str],
    groups: Sequence[RetentionGroup] = (),
) -> Policy:
    """The policy versions in force during the period (R28) and those adopted in it, as
    the site's adoptions (read from the verified log, not a read model) knew them at
    ``ref``, with what each sets for footage and how many segments recorded in the
    period were captured under it; and the words of each rule a refusal of the period
    cited."""
    captured = Counter[int | None]()
    for g in groups:
        captured[g.version] += g.segments
    known = [v for v in ledger.policy_history() if v.adopted_at <= ref]
    timeline = Timeline()  # as the adoptions known at ``ref`` make it (supersessions too)
    for v in known:
        timeline.add(v.version, v.effective_at)
    rows = []
    for v in known:
        superseded = v.version in timeline.superseded
        until = None if superseded else timeline.until(v.version)
        in_force = not superseded and v.effective_at < end and (until is None or until > start)
        adopted = start <= v.adopted_at < end
        if in_force or adopted:
            rows.append(
                PolicyVersionRow(
                    v.version, v.profile, v.approved_by, v.approval_ref, v.effective_date,
                    v.effective_at, v.adopted_at, v.adopted_by, v.text_sha256,
                    v.params_sha256, v.params.retention_days, in_force, adopted,
                    v.params.flag_max_days, v.params.archive_viewer_roles,
                    v.params.counsel_review_gates_release, captured[v.version],
                )
            )  # fmt: skip
    words = tuple(
        CitedRule(r.id, r.source, r.summary)
        for rule_id in sorted(cited)
        if (r := rules.RULES.get(rule_id)) is not None
    )
    return Policy(tuple(rows), words)


# ---- sections -----------------------------------------------------------------------------


def _cameras(conn: Connection, start: datetime, end: datetime, ref: datetime) -> Cameras:
    rows = tuple(
        CameraRow(
            camera_id=c.camera_id,
            location=c.location,
            zone=c.zone,
            signage_attested=c.signage_posted,
            status="retired" if c.retired_at is not None and c.retired_at <= ref else "active",
            registered_at=c.registered_at,
        )
        for c in camera_records(conn)
    )
    refused = tuple(
        RefusedCamera(r.camera_id, r.actor, r.at, r.zone, r.rule_id, r.message)
        for r in refused_registrations(conn, start, end)
    )
    return Cameras(rows, refused)


def _retention(
    conn: Connection,
    start: datetime,
    end: datetime,
    ref: datetime,
    *,
    brief: bool = False,
    viewed: set[str] | None = None,
) -> Retention:
    """The period's retention; ``brief``: only what ``needs_attention`` reads (the settings
    and the late purges), for the dashboard's home page, which lists no segments (the
    counts of segments kept by status are left at 0).
    ``viewed``: the segments viewed in the period, listed with their retention too."""
    settings = conn.execute(select(site_settings)).first()
    # brief: the home page shows no counts of the segments kept (each would read them all)
    counts = dict.fromkeys(STATUSES, 0) if brief else status_counts(conn, ref)
    recorded = [] if brief else segment_rows(conn, ref, recorded_from=start, recorded_until=end)
    if brief:  # the home page: only the late purges (the others would all be read)
        late = late_purges_in(conn, start, end)
        purged = late
    else:
        purged, late = purges_in(conn, start, end)
    overdue = [] if brief else segment_rows(conn, ref, status="overdue")
    timeline: dict[str, list[TimelineBar]] = {}
    for row in recorded:
        status = _TIMELINE_STATUS.get(row.status, row.status)
        timeline.setdefault(row.camera_id, []).append(
            TimelineBar(row.recorded_start, row.recorded_end, status)
        )
    held = [] if brief else _held(conn, ref)
    overdue_rows = [
        OverdueSegment(
            r.segment_id,
            r.camera_id,
            r.keep_until or r.deadline,
            (ref - (r.keep_until or r.deadline)).days,
        )
        for r in overdue
    ]
    listed: tuple[SegmentRetention, ...] = ()
    if not brief:
        listed, known = _segments_listed(conn, start, end, ref, recorded, held, overdue_rows,
                                         viewed or set())  # fmt: skip
        held = [_with_terms(x, known.get(x.segment_id)) for x in held]
        overdue_rows = [_with_terms(o, known.get(o.segment_id)) for o in overdue_rows]
    return Retention(
        settings=RetentionSettings(
            retention_days=settings.retention_days if settings else 30,
            schedule_authority=authority_text(schedule_authority(conn)),
        ),
        counts=RetentionCounts(
            captured=len(recorded),
            purged_on_time=purged - late,
            purged_late=late,
            overdue_now=counts["overdue"],
            flagged=counts["flagged"],
            held=counts["held"],
        ),
        held=tuple(held),
        overdue=tuple(overdue_rows),
        timeline=tuple(CameraTimeline(cam, tuple(bars)) for cam, bars in sorted(timeline.items())),
        by_version=()
        if brief
        else tuple(
            RetentionGroup(
                g.version, g.retention_days, g.segments, g.purged, g.first_deadline, g.last_deadline
            )
            for g in recorded_groups(conn, start, end)
        ),  # fmt: skip
        purges=()
        if brief
        else tuple(
            PurgeGroup(g.version, g.retention_days, g.purge_retention_days, g.segments)
            for g in purge_groups(conn, start, end)
        ),
        segments=listed,
    )


T = TypeVar("T", HeldSegment, OverdueSegment)


def _with_terms(row: T, t: Terms | None) -> T:
    """A listed segment with the retention recorded at its capture (R13, R28)."""
    if t is None:
        return row
    extra: dict[str, Any] = {"retention_days": t.retention_days,
                             "retention_version": t.retention_version}  # fmt: skip
    if isinstance(row, HeldSegment):
        extra["deadline"] = t.deadline
    return dataclasses.replace(row, **extra)


def _segments_listed(
    conn: Connection,
    start: datetime,
    end: datetime,
    ref: datetime,
    recorded: Sequence[Any],
    held: Sequence[HeldSegment],
    overdue: Sequence[OverdueSegment],
    viewed: set[str],
) -> tuple[tuple[SegmentRetention, ...], dict[str, Terms]]:
    """Every segment of the period with the retention in force for it: recorded in the
    period, purged in it, viewed in it, flagged, held or overdue now (issue 12, finding
    9). Returns them, oldest recording first, and the terms by segment id."""
    why: dict[str, set[str]] = {}
    # (keep_until, status) of each listed segment; the bulk (recorded or purged in the
    # period) come from two range queries, the few others by id.
    state: dict[str, tuple[datetime | None, str]] = {}
    for r in recorded:
        why.setdefault(r.segment_id, set()).add("recorded")
        state[r.segment_id] = (r.keep_until, r.status)
    known = {t.segment_id: t for t in terms_recorded(conn, start, end)}
    for gone, keep in terms_purged(conn, start, end):
        why.setdefault(gone.segment_id, set()).add("purged")
        known[gone.segment_id] = gone
        state.setdefault(gone.segment_id, (keep, "purged"))
    for sid in viewed:
        why.setdefault(sid, set()).add("viewed")
    for x in held:
        why.setdefault(x.segment_id, set()).add("flagged" if x.kind == "flag" else "held")
    for o in overdue:
        why.setdefault(o.segment_id, set()).add("overdue")
    rest = set(why) - set(state)
    state.update(
        (r.segment_id, (r.keep_until, r.status)) for r in segment_rows_by_id(conn, rest, ref)
    )
    known.update(terms_of(conn, set(why) - set(known)))
    order = ("recorded", "purged", "viewed", "flagged", "held", "overdue")
    out = []
    for sid, reasons in why.items():
        t, st = known.get(sid), state.get(sid)
        if t is None or st is None:
            continue  # not captured by the time the views stand at (as of)
        out.append(
            SegmentRetention(
                sid, t.camera_id, t.recorded_start, t.recorded_end, t.retention_days,
                t.retention_version, t.deadline, st[0], st[1], t.purged_at,
                t.purge_retention_days, t.purge_policy_version,
                tuple(w for w in order if w in reasons),
            )
        )  # fmt: skip
    out.sort(key=lambda x: (x.recorded_start, x.segment_id))
    return tuple(out), known


def _held(conn: Connection, ref: datetime) -> list[HeldSegment]:
    """Every open flag and every active hold on an unpurged segment, one row each."""
    s, f, h, hs = segments.c, flags.c, holds.c, hold_segments.c
    out = []
    flagged = conn.execute(
        select(s.segment_id, s.camera_id, s.recorded_start, s.recorded_end, f.reason, f.flag_id,
               f.retain_until, f.flagged_at)
        .join(flags, f.segment_id == s.segment_id)
        .where(f.cleared_at.is_(None), s.purged.is_(False))
    )  # fmt: skip
    for r in flagged:
        if r.retain_until is not None and r.retain_until <= ref:
            continue  # the flag's own retention has ended: the segment is no longer kept by it
        out.append(
            HeldSegment(r.segment_id, r.camera_id, r.recorded_start, r.recorded_end, r.reason,
                        "flag", r.flag_id, (ref - r.recorded_end).days, r.retain_until,
                        placed_at=r.flagged_at)
        )  # fmt: skip
    # Unpurged is checked here, not in SQL: with it in the WHERE clause SQLite walks every
    # unpurged segment instead of the few active holds.
    held = conn.execute(
        select(s.segment_id, s.camera_id, s.recorded_start, s.recorded_end, h.reason, h.kind,
               h.hold_id, h.reference, h.review_by, s.purged, h.placed_at)
        .select_from(holds)
        .join(hold_segments, h.hold_id == hs.hold_id)
        .join(segments, hs.segment_id == s.segment_id)
        .where(h.released_at.is_(None))
    )  # fmt: skip
    for r in held:
        if r.purged:
            continue
        out.append(
            HeldSegment(r.segment_id, r.camera_id, r.recorded_start, r.recorded_end, r.reason,
                        r.kind, f"{r.hold_id} ({r.reference})", (ref - r.recorded_end).days,
                        r.review_by, placed_at=r.placed_at)
        )  # fmt: skip
    return sorted(out, key=lambda x: (x.recorded_start, x.segment_id, x.kind))


Acting = Callable[[str, str, datetime], str]


def acting_lookup(ledger: Ledger) -> Acting:
    """(name, role, time) -> the delegation under which that member acted as acting
    Director then, or "" (R3). Events record the role an act was done in ("director"
    for an acting Director); the staff directory's delegations say which of those were
    an acting Director's (review, session 14: reports showed her as the Director)."""
    by_name: dict[str, list[tuple[str, datetime, datetime, datetime | None]]] = {}
    for m in ledger._members():
        for d_id, d in m.delegations.items():
            ended = datetime.fromisoformat(d["ended"]) if d["ended"] else None
            by_name.setdefault(m.name, []).append(
                (
                    d_id,
                    datetime.fromisoformat(d["start"]),
                    datetime.fromisoformat(d["until"]),
                    ended,
                )
            )

    def acting(name: str, role: str, at: datetime) -> str:
        if role != "director":
            return ""
        for d_id, start, until, ended in by_name.get(name, ()):
            if start <= at < until and (ended is None or at < ended):
                return d_id
        return ""

    return acting


def with_acting(report: AccessReport, acting: Acting) -> AccessReport:
    """The access log with each acting Director's viewings and refusals naming her
    delegation (R3; policy red team, session 16: ``report access`` showed an acting
    Director, of any role, as the Director, where the compliance report named her
    delegation)."""
    return dataclasses.replace(
        report,
        viewings=tuple(
            dataclasses.replace(v, acting=acting(v.actor, v.actor_role, v.viewed_at))
            for v in report.viewings
        ),
        refused=tuple(
            dataclasses.replace(r, acting=acting(r.actor, r.actor_role, r.recorded_at))
            for r in report.refused
        ),
    )


def _access(conn: Connection, start: datetime, end: datetime, acting: Acting) -> Access:
    report = access_report(conn, start, end)
    known = terms_of(conn, {v.segment_id for v in report.viewings})
    return Access(
        viewings=tuple(
            Viewing(
                v.actor,
                v.actor_role,
                v.viewed_at,
                v.purpose,
                v.reason,
                v.remote,
                v.segment_id,
                v.archived,
                *_days_version(known.get(v.segment_id)),
                acting(v.actor, v.actor_role, v.viewed_at),
            )
            for v in report.viewings
        ),
        refused=tuple(
            RefusedAccess(
                r.actor, r.actor_role, r.recorded_at, r.rule_id, r.message, r.authenticated
            )
            for r in report.refused
        ),
        staff_notes=tuple(
            StaffNote(n.actor, n.at, n.act, n.segment_id, n.stated, n.note)
            for n in report.staff_notes
        ),
    )


def _refusal(r: Any, acting: Acting | None = None) -> RefusalRow:
    """A refused attempt as the report lists it (``projections.refusals.RefusalRow`` in)."""
    return RefusalRow(
        r.recorded_at, r.actor, r.actor_role, r.action, r.rule_id, r.message, r.authenticated,
        acting(r.actor, r.actor_role, r.recorded_at) if acting is not None else "",
    )  # fmt: skip


def _days_version(t: Terms | None) -> tuple[int | None, int | None]:
    return (None, None) if t is None else (t.retention_days, t.retention_version)


def _disclosures(rows: list[RegisterRow]) -> Disclosures:
    return Disclosures(
        rows=tuple(disclosure_row(r) for r in rows),
        by_requester_kind=dict(sorted(Counter(r.requester_kind for r in rows).items())),
        by_basis=dict(sorted(Counter(r.basis for r in rows).items())),
    )


def disclosure_row(r: RegisterRow) -> DisclosureRow:
    """The compliance report's row of a register row (``projections.disclosures.row_problem``
    rebuilds it from the events too)."""
    refused_by = sorted({d["rule_id"] for d in r.rules if not d.get("allowed", True)})
    reasons = r.decision_reason or ""
    if refused_by:
        reasons = f"{reasons}; other fields withheld under {', '.join(refused_by)}".lstrip("; ")
    return DisclosureRow(
        request_id=r.ref,
        received_at=r.opened_at,
        requester_kind=r.requester_kind,
        basis=r.basis,
        decision=r.decision,
        decided_at=r.decided_at,
        hours_to_decision=None
        if r.time_to_decision_s is None
        else round(r.time_to_decision_s / 3600, 1),
        reasons=reasons,
        released_fields=(*r.released_fields, *(f"footage:{s}" for s in r.released_footage)),
        acknowledgement=r.acknowledgement,
        follow_up=r.follow_up,
        foia_due=r.foia_due,
        legal_basis="; ".join(
            x for x in (r.court_order, r.scope and f"scope: {r.scope}", r.signed_form) if x
        ),
        refused_at_intake=tuple(f"{x['field']} ({x['rule_id']})" for x in r.refused_at_intake),
        footage_redaction=r.footage_redaction,
    )


def record_issued(
    ledger: Ledger, report: ComplianceReport, fmt: str, out: Path, *, actor: str
) -> str:
    """Record which document was handed out (its SHA-256; for a CSV directory, the
    SHA-256 of its SHA256SUMS-style listing) over which checkpoint. Returns the digest."""
    if out.is_dir():
        files = sorted(p.name for p in out.iterdir() if p.is_file())
        digest = hashlib.sha256(sums_text(out, files).encode()).hexdigest()
    else:
        digest = sha256_file(out)
    return record_issued_digest(ledger, report, fmt, digest, actor=actor)


def record_issued_digest(
    ledger: Ledger, report: ComplianceReport, fmt: str, digest: str, *, actor: str
) -> str:
    """``record_issued`` for a document given by its SHA-256 (one served, not written)."""
    ledger.record_report_issued(
        period_from=report.header.period_from,
        period_to=report.header.period_to,
        as_of=report.header.as_of,
        format=fmt,
        output_sha256=digest,
        checkpoint_size=report.integrity.tree_size,
        checkpoint_root=report.integrity.merkle_root,
        actor=actor,
    )
    return digest


@dataclasses.dataclass(frozen=True)
class Desk:
    """The Director's desk now (the web dashboard's home): what needs attention, as the
    compliance report lists it, over the last ``days`` site days, and the refusals then."""

    attention: tuple[AttentionItem, ...]
    refusals: tuple[RefusalRow, ...]
    register: tuple[Any, ...]
    period_from: date
    period_to: date
    # the requests ``entered_by`` took in (``desk``'s argument), oldest first
    mine: tuple[Any, ...] = ()
    # overdue segments needing attention beyond those in ``attention`` (``shown``)
    overdue_unlisted: int = 0


def desk(
    ledger: Ledger,
    now: datetime,
    *,
    days: int = 7,
    entered_by: str | None = None,
    shown: int | None = None,
) -> Desk:
    """What ``report compliance`` would list as needing attention at ``now`` for the last
    ``days`` days (the same ``needs_attention``), read from the read models checked
    against their seals (R29). ``entered_by``: also the requests that member took in
    (``mine``), picked from the same read of the register (the home page read it twice).
    ``shown``: only the first that many overdue segments are listed, the others counted
    (``overdue_unlisted``): the home page shows no more (441 listed at 1M events)."""
    site = ledger.site()
    zone = site.zone
    last = sitetime.local_day(now, zone)
    first = date.fromordinal(last.toordinal() - days + 1)
    start, end = sitetime.days(first, last, zone)
    corrections = _corrections(site, start, min(end, now))
    set_aside = _set_aside(ledger, site, start, end, now)
    acting = acting_lookup(ledger)

    def query(conn: Connection) -> Desk:
        register = register_brief(conn)  # the columns the page and the list judge
        mine = () if entered_by is None else tuple(taken_in(conn, register, entered_by))
        retention = _retention(conn, start, end, now, brief=True)
        attention = needs_attention(conn, register, retention, now, zone, overdue_shown=shown,
                                    corrections=corrections, set_aside=set_aside)  # fmt: skip
        # the first ``shown`` are listed (oldest first), the rest counted in the same buckets
        unlisted = 0 if shown is None else max(0, overdue_count(conn, now) - shown)
        return Desk(
            attention=tuple(attention),
            refusals=tuple(_refusal(r, acting) for r in refused_attempts(conn, start, end)),
            register=tuple(register),
            period_from=first,
            period_to=last,
            mine=mine,
            overdue_unlisted=unlisted,
        )

    return read_views(ledger, query, checked=True)  # R29, as the report it previews
