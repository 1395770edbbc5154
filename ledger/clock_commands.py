"""A clock set ahead, and the Director's correction (R26).

The recorder refuses an act timed more than ``CLOCK_TOLERANCE`` before the act preceding
it, so that nobody backdates. The same rule means that one act recorded by a clock set
ahead (a host whose clock jumped a year, or a member signing through the Python API with
a clock of her choosing) blocks every later act until real time catches up with it.

Only the Director may lift that block, and only by an act of its own: a
``Site.ClockCorrected`` event that names the recorded time it sets aside (the ledger's
last), the acts recorded ahead and her reason. Nothing is rewritten: those acts keep
their entries, signatures and wrong times; later acts are timed from the correction.
The correction is stored in clear and ``verify`` lists every one (``ledger.act_check``),
so a reader years later sees which recorded times the Director set aside, and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import host_clock, rules
from ledger.acts import act_time, format_time
from ledger.application import LedgerBase
from ledger.clock import CLOCK_TOLERANCE, ManualClock
from ledger.errors import (
    NOTHING_DESTROYED,
    ClockBehind,
    ClockDisagrees,
    DataDirError,
    InvalidInput,
)
from ledger.site import Site
from ledger.text import REASON, clean_text


@dataclass(frozen=True)
class ClockState:
    """This process's clock against the ledger's last recorded act."""

    now: datetime
    head: int  # the chain's length
    last: datetime | None  # the last act's recorded time (None: an empty ledger)
    ahead: list[tuple[int, datetime]]  # acts recorded after now + tolerance, newest first
    from_position: int  # the first entry of the oldest of them

    @property
    def blocked(self) -> bool:
        """Whether the next act would be refused: the last one is timed too far ahead."""
        return bool(self.ahead)

    def to_json(self) -> dict[str, object]:
        return {
            "now": format_time(self.now),
            "entries": self.head,
            "last_recorded": format_time(self.last) if self.last is not None else None,
            "blocked": self.blocked,
            "ahead": [{"position": p, "recorded": format_time(t)} for p, t in self.ahead],
            "from_position": self.from_position if self.ahead else None,
        }


@dataclass(frozen=True)
class ClockCorrection:
    position: int  # the correction's own entry
    set_aside: datetime
    from_position: int
    acts: int
    recorded: datetime


@dataclass(frozen=True)
class SetAsideSpan:
    """The events a clock correction set aside (R26), by notification id, ``start`` to
    ``stop``: recorded by a clock set ahead, so their times say only that they happened
    before the correction (``correction``) and after ``after`` (the last act before them,
    recorded by a trusted clock)."""

    start: int
    stop: int
    correction: datetime
    after: datetime | None


def recorded_by(
    spans: Sequence[SetAsideSpan], notification_id: int, recorded: datetime
) -> datetime:
    """When an event was recorded at the latest: its recorded time or, set aside by a
    correction in ``spans``, the correction's time (it came before it in the log; its own
    time, from a clock set ahead, says nothing). What ``--as-of`` reads as recorded by a
    time: a purge swept by such a clock was left out of the days after the correction,
    the footage shown stored (the session 18 review)."""
    for span in spans:
        if span.start <= notification_id <= span.stop:
            recorded = min(recorded, span.correction)
    return recorded


@dataclass(frozen=True)
class SetAsidePurge:
    """A purge recorded among the acts a clock set ahead recorded, whose time a clock
    correction set aside (R26): when the footage was destroyed, the ledger knows only
    that it was before the correction (``correction``), and after nothing it can vouch
    for (``after``: the last act before them, recorded by a trusted clock)."""

    segment_id: str
    camera_id: str
    recorded: datetime  # the purge's recorded time, set aside
    correction: datetime  # when the Director set it aside
    after: datetime | None


class ClockCommands(LedgerBase):
    def clock_state(self) -> ClockState:
        now = self.clock()
        reader = self.chain_reader()
        head, _, record = reader.head_entry()
        last = act_time(record)
        if last is None or last <= now + CLOCK_TOLERANCE:
            return ClockState(now, head, last, [], head + 1)
        ahead, first = reader.acts_after(now + CLOCK_TOLERANCE)
        return ClockState(now, head, last, ahead, first)

    def server_time(self) -> tuple[datetime, datetime, datetime] | None:
        """The database server's clock, read between two readings of this one: (before,
        the server's, after). None on SQLite, which has no clock of its own (it is this
        host's), and None under simulated time (a ``ManualClock``: tests, the demo),
        which no server shares. A PostgreSQL server on another machine is an independent
        clock; one on this machine still catches a clock faked for one process
        (``faketime``)."""
        if isinstance(self.clock, ManualClock):
            return None
        return self.chained_recorder.server_clock(self.clock)

    def check_clock_to_destroy(self) -> datetime:
        """Before anything is destroyed by the time (the retention sweep, R13-R15): this
        clock's reading, once the ledger would record an act timed by it (else
        ``ClockBehind``: the files would be gone and their purge not recorded) and, on
        PostgreSQL, the database server's clock agrees with it within ``CLOCK_TOLERANCE``
        (else ``ClockDisagrees``: a clock set ahead destroys footage early), and this
        host's time since boot agrees with the last sweep's reading in the same boot
        (``ledger.host_clock``: SQLite's second clock)."""
        state = self.clock_state()
        if state.blocked and state.last is not None:
            raise ClockBehind(state.now, state.last)
        reading = self.server_time()
        if reading is not None:
            before, server, after = reading
            if server < before - CLOCK_TOLERANCE:
                raise ClockDisagrees("the database server's clock", before, server)
            if server > after + CLOCK_TOLERANCE:
                raise ClockDisagrees("the database server's clock", after, server)
        # last: the anchor is kept only for a clock every other check agreed with
        if not isinstance(self.clock, ManualClock) and self.datadir is not None:
            anchor = self.datadir.path / host_clock.ANCHOR
            try:
                expected = host_clock.disagreement(anchor, state.now, CLOCK_TOLERANCE)
            except OSError as e:  # the session 18 review: a raw OSError, read-only data dir
                raise DataDirError(
                    f"cannot keep this sweep's time in {anchor} ({e.strerror or e}): the sweep "
                    f"needs its data directory writable; {NOTHING_DESTROYED}"
                ) from e
            if expected is not None:
                raise ClockDisagrees(
                    "where this host's time since boot puts it (the last sweep's time, carried "
                    f"forward; if this clock is right, check it against NTP and remove {anchor})",
                    state.now,
                    expected,
                )
        return state.now

    def clock_corrections_recorded(
        self, until: datetime | None = None, *, held_by: int | None = None
    ) -> list[tuple[int, Any]]:
        """Every clock correction recorded (by ``until``, when given; among the log's
        events up to notification ``held_by``, when given: what a checkpoint holds), with
        its notification id, oldest first; nothing of the log is read when the site
        records none (the usual case)."""
        if not self.site().clock_corrections:
            return []
        return [
            (notification_id, event)
            for notification_id, event in self._numbered_events_seen(Site.ClockCorrected)
            if (until is None or event.timestamp <= until)  # type: ignore[attr-defined]
            and (held_by is None or notification_id <= held_by)
        ]

    def set_aside_spans(
        self, until: datetime | None = None, *, held_by: int | None = None
    ) -> list[SetAsideSpan]:
        """The acts each clock correction set aside (corrected by ``until``, when given;
        among the events up to ``held_by``, when given), oldest first, as notification
        ids: reads only the log's corrections and the chain entries around the first act
        each sets aside, and nothing of the log when the site records no correction (the
        usual case)."""
        reader = self.chain_reader()
        out: list[SetAsideSpan] = []
        for notification_id, event in self.clock_corrections_recorded(until, held_by=held_by):
            c: Any = event
            first = reader.entry(position=c.from_position)
            before = reader.entry(position=c.from_position - 1)
            if first is None:
                continue
            after = act_time(bytes(before[8])) if before is not None and before[8] else None
            out.append(SetAsideSpan(first[0], notification_id - 1, c.timestamp, after))
        return out

    def events_recorded_by(
        self, classes: Sequence[type], *, size: int, as_of: datetime | None = None
    ) -> list[tuple[int, Any]]:
        """Every event of these classes among the log's first ``size`` entries (a signed
        checkpoint's), with its notification id, oldest first; with ``as_of``, only those
        recorded by then, as ``--as-of`` reads the log (``recorded_by``). What
        ``verify-report --events`` replays a register from, to see what it should list."""
        last = self.chain_reader().entry(position=size)
        if last is None:
            raise InvalidInput(
                f"this ledger holds fewer entries than the checkpoint's {size}: it is not the "
                "ledger the report was made from (custodes verify --against says more)"
            )
        found: list[tuple[int, Any]] = list(self._numbered_events_of(*classes, stop=last[0]))
        if as_of is None:
            return found
        spans = self.set_aside_spans(until=as_of)
        return [(n, e) for n, e in found if recorded_by(spans, n, e.timestamp) <= as_of]

    def set_aside_purges(
        self, until: datetime | None = None, *, held_by: int | None = None
    ) -> list[SetAsidePurge]:
        """Every footage purge among the acts a clock correction set aside (corrected by
        ``until``, when given; among the events up to ``held_by``, when given), oldest
        first: a sweep run by a clock set ahead destroyed footage by that clock, and its
        purge's recorded time says nothing of when it did. Reads only the log between
        each correction and the first act it sets aside."""
        from ledger.footage import Segment

        out: list[SetAsidePurge] = []
        for span in self.set_aside_spans(until, held_by=held_by):
            for e in self._events_of(Segment.FootagePurged, start=span.start, stop=span.stop):
                purge: Any = e
                out.append(SetAsidePurge(purge.segment_id, purge.camera_id, purge.timestamp,
                                         span.correction, span.after))  # fmt: skip
        return out

    def correct_clock(self, *, reason: str, actor: str) -> ClockCorrection:
        """Set aside the recorded time of the acts a clock set ahead recorded, so that
        acts can be recorded again (the Director only, with a reason)."""
        who = self.authorize(
            actor, "set aside recorded times", ("director",), rules.RECORDED_TIME,
            subject="the ledger's clock",
        )  # fmt: skip
        if who.delegation is not None:
            self.refuse(
                who, "set aside recorded times", rules.RECORDED_TIME,
                f"an acting Director (delegation {who.delegation}) may not set aside recorded "
                "times: only the Director may, by an act of her own",
                subject="the ledger's clock",
            )  # fmt: skip
        # stored in clear: no card numbers, as in every reason (ledger.text)
        reason = clean_text(reason, kind=REASON, what="the reason (--reason)", no_card_numbers=True)
        state = self.clock_state()
        if not state.blocked or state.last is None:
            shown = format_time(state.last) if state.last is not None else "none"
            raise InvalidInput(
                f"the ledger's last act (recorded {shown}) is not ahead of this clock "
                f"({format_time(state.now)}): there is nothing to set aside"
            )
        if state.from_position <= 1:
            raise InvalidInput(
                "every act in the ledger, its first included, is timed ahead of this clock: "
                "this host's clock is wrong, not the ledger's; correct it (NTP). Nothing was "
                "recorded"
            )
        site = self.site()
        site.trigger_event(
            Site.ClockCorrected,
            set_aside=format_time(state.last),
            from_position=state.from_position,
            acts=len(state.ahead),
            reason=reason,
            latest=format_time(max(t for _, t in state.ahead)),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            timestamp=state.now,
        )
        act = dataclasses.replace(self._act_for([site]), corrects=state.last)
        self.save(site, act=act)
        return ClockCorrection(
            state.head + 1, state.last, state.from_position, len(state.ahead), state.now
        )
