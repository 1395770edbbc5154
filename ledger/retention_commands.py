"""Retention use-cases: purge what is due (R13-R15) and the Director's retention settings
(R13, R15, R16).

The purge is decided by the segment aggregate and the policy (``ledger.footage_policy``),
whatever a projection said; file destruction is the capture package's (``capture.sweep``),
these methods record what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger import footage_policy, rules, sitetime
from ledger.clock import CLOCK_TOLERANCE
from ledger.errors import InvalidInput, LedgerError
from ledger.footage import Segment
from ledger.footage_commands import copies_destroyed, required_reason
from ledger.footage_queries import FootageQueries, SegmentInfo, segment_info_of
from ledger.site import SITE_ID, Site
from ledger.text import REFERENCE, clean_text

# Who may run the sweep: the unattended service identity, or the Director by hand.
SWEEPERS = ("service", "director")


class PurgeBlocked(LedgerError):
    """The segment may not be purged now (hold, flag, retention); nothing was recorded."""

    def __init__(self, rule: rules.Rule, message: str) -> None:
        super().__init__(f"{rule.cite()}: {message}")
        self.rule = rule


@dataclass(frozen=True)
class MissingRecord:
    """A segment whose file or key the vault audit found gone with no purge in progress."""

    segment_id: str
    blob_missing: bool
    key_missing: bool


@dataclass(frozen=True)
class PurgeRecord:
    """What the sweep did to one segment's files (both confirmed gone)."""

    segment_id: str
    method: str
    blob_removed: bool
    key_destroyed: bool
    completed_after_interruption: bool
    copies_destroyed: tuple[str, ...] = ()  # the segment's viewing copies removed first (R16b)
    copies_not_found: tuple[str, ...] = ()  # those of them that were not there to remove


class RetentionCommands(FootageQueries):
    # ---- purge (R13-R15) ------------------------------------------------------------------

    def check_purge(self, segment_id: str, *, actor: str) -> SegmentInfo:
        """Raise PurgeBlocked unless the segment must be purged now (the aggregate decides,
        whatever a projection said)."""
        now = self.clock()
        self.authorize(actor, "retention sweep", SWEEPERS, rules.SERVICE_SCOPE, subject=segment_id)
        segment = self._segment(segment_id)
        if segment.purged:
            raise PurgeBlocked(
                rules.FOOTAGE_RETENTION, f"segment {segment.segment_id} is purged already"
            )
        if segment.missing:
            raise PurgeBlocked(
                rules.FOOTAGE_FOUND_MISSING,
                f"segment {segment.segment_id} was found missing on "
                f"{segment.missing_at:%Y-%m-%d}; there is nothing left to purge",
            )
        decision = footage_policy.check_purge(
            segment.recorded_end,
            segment.retention_days,
            segment.policy_flags(),
            segment.policy_holds(),
            # due by a clock that may be the clocks' tolerance ahead (red team, session
            # 18: a sweep 110 s ahead destroyed footage a minute before its deadline)
            now - CLOCK_TOLERANCE,
            self.site().zone,
        )
        if not decision.allowed:
            raise PurgeBlocked(decision.rule, f"segment {segment.segment_id}: {decision.reason}")
        return segment_info_of(segment)

    def purge_not_begun_by_a_sweep(self, segment_id: str) -> str | None:
        """Why a purge found in progress (the segment's key in ``shredding/``) cannot be
        one a sweep began, or None. A sweep begins destroying a segment only once it is
        due and no hold is active; a hold placed since (at or after it fell due) cannot
        bring the footage back, but one placed before it fell due, or a segment not due
        yet, means the key was moved there by hand (red team, session 18: keys of a held
        and of a flagged segment moved to ``shredding/`` were completed and recorded as
        routine purges). A flag placed after a real sweep began reads the same way."""
        segment = self._segment(segment_id)
        ret = footage_policy.retention_deadline(
            segment.recorded_end, segment.retention_days, segment.policy_flags(), [],
            self.clock(),
        )  # fmt: skip
        zone = self.site().zone
        if ret.keep_until is None:
            return "an open flag keeps it until the flag is cleared"
        # a sweep begins a purge once 2 minutes past the deadline by its clock, and this
        # clock may be up to 2 minutes behind that one: not due even by this clock, then
        # (the session 18 review: a purge begun within the tolerance was recorded missing)
        if ret.keep_until > self.clock():
            return f"it is kept until {sitetime.show(ret.keep_until, zone)}"
        for hold_id, _ in sorted(segment.holds.items()):
            placed = self.hold_info(hold_id).placed_at
            if placed < ret.keep_until:
                return (
                    f"hold {hold_id}, placed {sitetime.show(placed, zone)} before it fell due, "
                    "is active"
                )
        return None

    def record_purge(
        self,
        segment_id: str,
        *,
        method: str,
        blob_removed: bool,
        key_destroyed: bool,
        completed_after_interruption: bool,
        sweep_run: str,
        actor: str,
    ) -> None:
        """Record what the sweep destroyed. Call only after the files are confirmed gone."""
        self.check_purge(segment_id, actor=actor)
        record = PurgeRecord(
            segment_id, method, blob_removed, key_destroyed, completed_after_interruption
        )
        self.record_purges([record], sweep_run=sweep_run, actor=actor)

    def record_purges(
        self, purges: Sequence[PurgeRecord], *, sweep_run: str, actor: str
    ) -> list[str]:
        """Record, in ONE save, purges the sweep has destroyed and confirmed; returns the
        segment ids recorded (a segment purged already is left out).

        The policy was decided by ``check_purge`` before anything was destroyed. The files
        are gone by now, so this states the fact even if a hold arrived in between: the
        ledger must never say footage exists that does not. One save per batch, not per
        segment: a crash before it leaves files gone without events, which the next sweep
        completes (see capture/sweep.py).
        """
        now = self.clock()
        who = self.authorize(actor, "retention sweep", SWEEPERS, rules.SERVICE_SCOPE)
        authority = self.site().schedule_authority
        segments = []
        for record in purges:
            segment = self._segment(record.segment_id)
            if segment.purged:
                continue
            copies_destroyed(segment, record.copies_destroyed, "purge", who, now,
                             record.copies_not_found)  # fmt: skip
            segment.trigger_event(
                Segment.FootagePurged,
                timestamp=now,
                actor=who.name,
                actor_role=who.role,
                occurred_at=None,
                segment_id=segment.segment_id,
                sha256=segment.sha256,
                camera_id=segment.camera_id,
                recorded_start=segment.recorded_start,
                recorded_end=segment.recorded_end,
                method=record.method,
                blob_removed=record.blob_removed,
                key_destroyed=record.key_destroyed,
                completed_after_interruption=record.completed_after_interruption,
                sweep_run=sweep_run,
                schedule_authority=authority,
                rule_id=rules.FOOTAGE_RETENTION.id,
                retention_days=segment.retention_days,
            )
            segments.append(segment)
        if segments:
            self.save(*segments)
        return [s.segment_id for s in segments]

    def may_record_found_missing(self, actor: str) -> bool:
        """Whether ``actor`` may record footage found missing (the service identity, the
        Director, an acting Director within a delegation), asked without recording a
        refusal: a compliance report made by someone else lists what the vault audit
        finds as not yet recorded instead (``capture.audit.record_findings``)."""
        member = self.member(actor)
        if member is None or not member.active:
            return False
        return member.role in SWEEPERS or self._delegation_now(member) is not None

    def record_found_missing(
        self, found: Sequence[MissingRecord], *, found_by: str, actor: str
    ) -> list[str]:
        """Record, in one save, segments whose files the vault audit found gone with no
        purge in progress (FOOTAGE-FOUND-MISSING): never as a purge. Segments purged or
        recorded missing meanwhile are left out; returns the segment ids recorded."""
        now = self.clock()
        who = self.authorize(actor, "retention sweep", SWEEPERS, rules.SERVICE_SCOPE)
        segments = []
        for record in found:
            segment = self._segment(record.segment_id)
            if segment.purged or segment.missing:
                continue
            segment.trigger_event(
                Segment.FootageFoundMissing,
                timestamp=now,
                actor=who.name,
                actor_role=who.role,
                occurred_at=None,
                segment_id=segment.segment_id,
                sha256=segment.sha256,
                camera_id=segment.camera_id,
                recorded_start=segment.recorded_start,
                recorded_end=segment.recorded_end,
                blob_missing=record.blob_missing,
                key_missing=record.key_missing,
                found_by=found_by,
                rule_id=rules.FOOTAGE_FOUND_MISSING.id,
            )
            segments.append(segment)
        if segments:
            self.save(*segments)
        return [s.segment_id for s in segments]

    # ---- site retention settings (R13, R15) ------------------------------------------------

    def change_retention(
        self,
        *,
        reason: str,
        actor: str,
        retention_days: int | None = None,
        schedule_authority: dict[str, str] | None = None,
    ) -> Site:
        """Director only: the retention schedule's authority. The days footage is kept are
        the adopted policy version's (``adopt_policy``, R28): a shorter period asked for
        here is refused and recorded (R13), any other change is pointed to adoption; the
        event records the version's days unchanged. There is no live window any more
        (R16): the event's ``live_window_hours`` is written 0."""
        now = self.clock()
        who = self.authorize(
            actor, "retention settings", ("director",), rules.STAFF_ROLE, subject="site"
        )
        site = self._get(Site, SITE_ID) or self.site()
        days = self.policy_params().retention_days
        if retention_days is not None:
            decision = footage_policy.check_retention_days(retention_days, days)
            if not decision.allowed:
                self.refuse(
                    who, "retention settings", decision.rule, decision.reason, subject="site"
                )
            if retention_days != days:
                raise InvalidInput(
                    f"footage is kept {days} days under the policy version in force (R28): "
                    "a different period is adopted as a new version, with the board's "
                    "approval: custodes policy adopt --text FILE --params FILE --approved-by "
                    "... --approval-ref ... --effective DATE (see custodes policy show; "
                    "docs/POLICY.md)"
                )
        authority = site.schedule_authority if schedule_authority is None else schedule_authority
        if authority is not None:
            authority = {
                k: clean_text(v, kind=REFERENCE, what=f"the schedule authority's {k}")
                for k, v in authority.items()
                if v and v.strip()
            } or None
        site.trigger_event(
            Site.SiteSettingsChanged,
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            retention_days=days,
            live_window_hours=0,
            schedule_authority=authority,
            reason=required_reason(reason, "changing the retention settings"),
        )
        self.save(site)
        return site
