"""History for legal review: every event about one subject, in ledger order.

Two read models name a subject's events, so a history never scans the whole log: the
aggregates whose own subject it is (``proj_subject_aggregates``: a segment's, a
request's, ...), whose events are then found in the log by aggregate id (its unique
index), and the other events that name it (``proj_subject_index``: subject key ->
notification id). The events are read from the log by notification id, with their
chain positions. (Until session 24 the subject index also held a row for every event of
an aggregate under the aggregate's own subjects: a million of its 2.6 million rows at 1M
events, each written and sealed by every rebuild. Read models made before are told to
rebuild once, ``ReadModelsOutdated``.)

Both tables' seals (R29) are kept in buckets by the subject's first characters
(``SUBJECTS_BY_PREFIX``: ``segment:3f``, ``camera:b1``, ...), and a history checks only
its subject's bucket of each: the rows of about a 256th of the segments, not the whole
tables (at 996,717 events: 0.14 s, against 3.1 to 3.6 s before session 26). A row deleted, edited or
added under the subject lies in that bucket, so the check still finds it.

An event is "about" a subject when
* it belongs to an aggregate whose identity is that subject: a segment's flags, holds,
  viewings and purge; a request's routing, decision, releases, acknowledgement; a hold's
  release; a camera's retirement; a patron's details and erasure. Every event of a request
  that names a patron is also about that patron, and every event of an evidence export is
  also about its request;
* or one of its fields names the subject (the indexed fields are ``INDEXED_FIELDS``): a
  hold naming segments, a request naming a pseudonym or segments, a release listing
  footage, a capture or purge naming its camera, a follow-up resolved by a court order
  request, an export clip naming its segment, a disclosure register handed out listing
  the request;
* or it is a refused attempt (``AccessDenied``) or a read of confidential details
  (``ConfidentialRecordRead``: a request's record, its Appendix 9, a history) whose
  subject names it, so a legal review shows who read the record as well as who was
  refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import StoredEvent
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    MetaData,
    String,
    Table,
    bindparam,
    select,
)

from ledger import sitetime
from ledger.app import Ledger
from ledger.chain import Damage
from ledger.chain_reader import ChainReader
from ledger.clock_commands import recorded_by
from ledger.errors import NotFound
from ledger.integrity import LedgerTampered
from ledger.release_rules import release_numbers
from projections.base import Projection, Views, insert_row, rows_in
from projections.disclosures import order_scope_summary
from projections.seal import Bucketing, DayRange, read_range

SUBJECT_KINDS = ("segment", "request", "hold", "patron", "camera")
# The seals' buckets of both tables: by the subject's kind and two characters of its
# value (256 for the segments' hex ids; cameras, requests and patrons by their first two).
SUBJECTS_BY_PREFIX = Bucketing("subject_prefix", "subject", prefix=2)

metadata = MetaData()
subject_index = Table(
    "proj_subject_index",
    metadata,
    Column("subject", String(90), primary_key=True),
    Column("notification_id", BigInteger, primary_key=True),
    info={"seal_buckets": (SUBJECTS_BY_PREFIX,)},
)
aggregate_subjects = Table(
    "proj_subject_aggregates",
    metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("subject", String(90), primary_key=True),
    # the event that made it the aggregate's subject (its first; since session 24, so
    # read models made before, whose subject index also held the aggregates' own events,
    # are told to rebuild once: ``ReadModelsOutdated``)
    Column("notification_id", BigInteger, nullable=False),
    # a history's: the aggregates whose own subject it is
    Index("ix_proj_subject_aggregates_subject", "subject"),
    info={"seal_buckets": (SUBJECTS_BY_PREFIX,)},
)

_SUBJECTS_OF = select(aggregate_subjects.c.subject).where(
    aggregate_subjects.c.aggregate_id == bindparam("aggregate")
)

# Field name -> subject kind. Lists of ids and lists of {"segment_id": ...} are read too.
INDEXED_FIELDS: dict[str, str] = {
    "segment_id": "segment",
    "segments": "segment",
    "footage": "segment",
    "hold_id": "hold",
    "ref": "request",
    "refs": "request",  # a disclosure register handed out: every request it listed
    "request_ref": "request",
    "court_order_request": "request",
    "patron": "patron",
    "pseudonym": "patron",
    "camera_id": "camera",
}
# Creation event -> the fields whose subjects every later event of the aggregate inherits.
OWN_FIELDS: dict[str, tuple[str, ...]] = {
    "FootageCaptured": ("segment_id",),
    "CameraRegistered": ("camera_id",),
    "HoldPlaced": ("hold_id",),
    "RequestOpened": ("ref", "patron"),
    "PatronRecorded": ("pseudonym",),
    "EvidenceExported": ("request_ref",),
    "RecordIssued": ("request_ref",),
}
_PATTERNS = (
    ("segment", re.compile(r"^[0-9a-f]{12}([0-9a-f]{52})?$", re.I)),
    ("request", re.compile(r"^R-\d{4}-\d{1,6}$", re.I)),
    ("hold", re.compile(r"^H-[0-9A-F]{8}$", re.I)),
    ("patron", re.compile(r"^p-[0-9a-f]{16}$", re.I)),
)


def subject_key(kind: str, value: str) -> str:
    """The canonical key: segments by their 12-hex id, refs and holds upper case."""
    value = value.strip()
    if kind == "segment":
        value = value.lower()[:12]
    elif kind in ("request", "hold"):
        value = value.upper()
    else:
        value = value.casefold()
    return f"{kind}:{value}"


def classify(text: str) -> str:
    """The subject key a user's SUBJECT argument means (a camera name when nothing else)."""
    for kind, pattern in _PATTERNS:
        if pattern.match(text.strip()):
            return subject_key(kind, text)
    return subject_key("camera", text)


def _values(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict) and isinstance(item.get("segment_id"), str):
                yield item["segment_id"]


def _field_keys(event: Any, names: Iterable[str]) -> set[str]:
    """The subject keys ``event``'s fields ``names`` hold. Only the fields the event
    has (its ``__dict__``): a field an older event lacks reads as its class's default,
    which names nothing. (A rebuild calls this for every event; a ``getattr`` of each
    of the ten names was the larger part of the index's handler time.)"""
    keys = set()
    fields = vars(event)
    for name in fields.keys() & names:
        kind = INDEXED_FIELDS[name]
        for value in _values(fields[name]):
            if value.strip():
                keys.add(subject_key(kind, value))
    return keys


def _named_keys(subject: str, *, cameras: bool) -> set[str]:
    """The subject keys a refusal's or a read's ``subject`` text names: comma-separated
    ids, or keys already written as ``kind:value`` (a history's). Free text is a camera
    name only when ``cameras`` (a camera act's refusal): "log from 5" names nothing."""
    keys = set()
    for token in subject.split(","):
        token = token.strip()
        if not token:
            continue
        kind, sep, value = token.partition(":")
        if sep and kind in SUBJECT_KINDS and value.strip():
            key = subject_key(kind, value)
        else:
            key = classify(token)
        if cameras or not key.startswith("camera:"):
            keys.add(key)
    return keys


class SubjectIndexProjection(Projection):
    name = "subjects"
    rebuild_cost = 35.0
    rebuild_rows = 1.63
    metadata = metadata
    # Append-only, and ``history --as-of`` filters the events it names by recorded time.
    versioned = False
    # Rows are found by primary key only (the subject index on the aggregates serves
    # histories): built at a rebuild's end.
    lookup_indexes = frozenset[str]()

    def __init__(self) -> None:
        # The page's aggregates -> their subjects, read in one query per page by
        # ``prepare`` and kept up to date by ``handle`` (None: read per event).
        self._subjects: dict[str, set[str]] | None = None

    def prepare(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        ids = sorted(
            {str(e.originator_id) for _i, e in events if getattr(e, "originator_version", 0) != 1}
        )
        subjects: dict[str, set[str]] = {a: set() for a in ids}
        a = aggregate_subjects.c
        q = select(a.aggregate_id, a.subject)
        for aggregate, subject in rows_in(conn, q, a.aggregate_id, ids):
            subjects[aggregate].add(subject)
        self._subjects = subjects

    def handle(self, conn: Connection, notification_id: int, event: Any) -> None:
        kind = type(event).__name__
        aggregate = str(event.originator_id)
        known = None if self._subjects is None else self._subjects.get(aggregate)
        # The aggregate's own subjects: its events are about them, found in the log by
        # aggregate id. An aggregate's first event (version 1) has none recorded before it.
        own: set[str] = set()
        if known is not None:
            own = set(known)
        elif getattr(event, "originator_version", None) != 1:
            own = {row.subject for row in conn.execute(_SUBJECTS_OF, {"aggregate": aggregate})}
        if kind in OWN_FIELDS:
            new = _field_keys(event, OWN_FIELDS[kind]) - own
            for key in sorted(new):
                insert_row(
                    conn,
                    aggregate_subjects,
                    aggregate_id=aggregate,
                    subject=key,
                    notification_id=notification_id,
                )
            own |= new
            if known is not None:
                known |= new
        # Any other subject the event names gets a row of the index.
        keys = _field_keys(event, INDEXED_FIELDS)
        if kind == "AccessDenied":
            keys |= _named_keys(str(event.subject), cameras=str(event.action).startswith("camera"))
        elif kind == "ConfidentialRecordRead":
            keys |= _named_keys(str(event.subject), cameras=False)
        for key in sorted(keys - own):
            insert_row(conn, subject_index, subject=key, notification_id=notification_id)


# ---- queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    notification_id: int
    position: int | None
    kind: str
    actor: str
    actor_role: str
    recorded_at: datetime
    occurred_at: datetime | None
    summary: str


@dataclass(frozen=True)
class Indexed:
    """What the read models say of a subject's events: the aggregates whose own subject
    it is (all their events) and the other events that name it."""

    aggregates: list[UUID]
    notification_ids: list[int]

    def events(self, ledger: Ledger) -> list[int]:
        """The notification ids of the subject's events, in log order: the aggregates'
        events found in the log by aggregate id, and the others."""
        found = ChainReader(ledger.chained_recorder).ids_of(self.aggregates)
        return sorted(set(found) | set(self.notification_ids))


def indexed(conn: Connection, key: str) -> Indexed:
    """What the read models say of the subject ``key``, read through its bucket of each
    table (``SUBJECTS_BY_PREFIX``): a checked read checks only that bucket."""
    a, i = aggregate_subjects.c, subject_index.c
    bucket = DayRange(SUBJECTS_BY_PREFIX, prefix=SUBJECTS_BY_PREFIX.key(key, None))
    query = select(a.aggregate_id).where(a.subject == key)
    aggregates = read_range(conn, query, aggregate_subjects, bucket).scalars()
    query = select(i.notification_id).where(i.subject == key)
    ids = read_range(conn, query, subject_index, bucket).scalars()
    return Indexed(sorted(UUID(str(x)) for x in aggregates), sorted(int(n) for n in ids))


def subject_history(ledger: Ledger, conn: Connection, key: str) -> list[HistoryEntry]:
    """The events about ``key``, read from the log by id, oldest first."""
    return _entries(ledger, indexed(conn, key).events(ledger))


def _entries(ledger: Ledger, ids: list[int]) -> list[HistoryEntry]:
    """The events with these notification ids, read from the log (not the read models),
    a chunk of ids per query, with their chain positions. An id the log lacks, which the
    read models name (checked against their seals), means an event was deleted from the
    log: ``LedgerTampered`` (exit 3), never another event in its place."""
    rows = ChainReader(ledger.chained_recorder).events_by_id(ids)
    if len(rows) != len(set(ids)):
        missing = sorted(set(ids) - {row[0] for row in rows})
        raise LedgerTampered(
            Damage(0, "deleted", f"event {missing[0]}"),
            f"the log has no event {missing[0]}, which the read models name "
            f"({len(missing)} missing): an event was deleted from the ledger. Nothing was "
            "shown. Run `custodes verify` to see the damage.",
        )
    zone = ledger.site().zone
    out = []
    for nid, oid, version, topic, position, *_chain, state in rows:
        stored = StoredEvent(UUID(bytes=oid), version, topic, state)
        event: Any = ledger.mapper.to_domain_event(stored)
        out.append(
            HistoryEntry(
                notification_id=nid,
                position=position,
                kind=type(event).__name__,
                actor=getattr(event, "actor", ""),
                actor_role=getattr(event, "actor_role", ""),
                recorded_at=event.timestamp,
                occurred_at=getattr(event, "occurred_at", None),
                summary=summarise(event, zone),
            )
        )
    return out


def _d(moment: datetime | None, zone: ZoneInfo) -> str:
    return sitetime.show(moment, zone)


def _list(values: Iterable[Any]) -> str:
    return ", ".join(_values(list(values))) or "(none)"


# What a ConfidentialRecordRead's ``record`` read, in words.
_RECORD_WORDS: dict[str, str] = {
    "request": "record", "appendix9": "Appendix 9 form", "log": "event details",
    "evidence export": "evidence package (downloaded)",
}  # fmt: skip

_SUMMARIES: dict[str, Any] = {
    "CameraRegistered": lambda e, z: (
        f"camera {e.camera_id} registered at {e.location} ({e.zone}); signage "
        f"{'attested' if e.signage_posted else 'NOT attested'}"
    ),
    "CameraRetired": lambda e, z: f"camera retired: {e.reason}",
    "FootageCaptured": lambda e, z: (
        f"segment {e.segment_id} from {e.camera_id}, recorded "
        f"{sitetime.show_span(e.recorded_start, e.recorded_end, z)}; keep until "
        f"{_d(e.retention_deadline, z)}"
    ),
    "FootageFlagged": lambda e, z: (
        f"flag {e.flag_id}: {e.reason}"
        + (f" (keep until {_d(e.retain_until, z)})" if e.retain_until else " (until cleared)")
    ),
    "FlagCleared": lambda e, z: f"flag {e.flag_id} cleared: {e.reason}",
    "HoldPlaced": lambda e, z: (
        f"{e.kind} hold {e.hold_id} ({e.reference}) on {_list(e.segments)}: {e.reason}"
    ),
    "HoldReleased": lambda e, z: f"hold released: {e.reason}",
    "HoldApplied": lambda e, z: f"held by {e.kind} hold {e.hold_id}",
    "HoldLifted": lambda e, z: f"hold {e.hold_id} lifted",
    "FootageViewed": lambda e, z: (
        f"{e.kind} ({e.purpose}{', remote' if e.remote else ''}"
        f"{', archived' if e.archived else ''}): {e.reason}"
    ),
    "FootagePurged": lambda e, z: (
        f"segment {e.segment_id} purged ({e.method}; file removed: "
        f"{'yes' if e.blob_removed else 'no'}, key destroyed: "
        f"{'yes' if e.key_destroyed else 'no'}) under {e.rule_id}"
    ),
    "FootageFoundMissing": lambda e, z: (
        f"segment {e.segment_id}: "
        + (
            "file and key"
            if e.blob_missing and e.key_missing
            else "file"
            if e.blob_missing
            else "key"
        )
        + f" found missing with no purge ({e.found_by}) under {e.rule_id}: not a purge"
    ),
    "RequestOpened": lambda e, z: (
        f"request {e.ref} from {e.requester_kind.replace('_', ' ')} ({e.requester}) for "
        f"{', '.join(e.records)}"
        + (f"; patron {e.patron}" if e.patron else "")
        + (f"; footage {_list(e.footage)}" if e.footage else "")
        + f"; received by {e.received_by}"
    ),
    "RequestRoutedToDirector": lambda e, z: f"routed to the Director ({e.director})",
    "FoiaClockStarted": lambda e, z: (
        f"FOIA clock started: due {_d(e.due_at, z)} (extended {_d(e.extended_due_at, z)})"
    ),
    "PreservationHoldLinked": lambda e, z: f"preservation hold {e.hold_id} on {_list(e.segments)}",
    "CourtOrderRecorded": lambda e, z: (
        f"{e.kind} {e.case} ({e.court}; judge {e.judge}; "
        f"{'signed by a judge' if e.signed_by_judge else 'NOT signed by a judge'}); "
        f"scope: {order_scope_summary(e)}" + (f" (the order: {e.scope})" if e.scope else "")
    ),
    "CounselReviewRecorded": lambda e, z: f"counsel review: {e.result}",
    "EmergencyRequestRecorded": lambda e, z: (
        f"signed Appendix 9 (sha256:{e.signed_form_sha256[:16]}) of {e.officer_rank} "
        f"{e.officer_name} (badge {e.badge_number}, {e.agency}); role sought: {e.role_sought}"
        + (
            "; refused at intake: " + _list([r["field"] for r in e.refused_at_intake])
            if e.refused_at_intake
            else ""
        )
    ),
    "DisclosureDecided": lambda e, z: (
        f"{'approved' if e.approved else 'denied'} on basis {e.basis}: {e.reason}"
        + (f"; fields allowed: {_list(e.allowed_fields)}" if e.allowed_fields else "")
    ),
    "DisclosureReleased": lambda e, z: (
        f"released to {e.to}"
        + (f" (badge {e.recipient_badge})" if e.recipient_badge else "")
        + f" by {e.method}: fields {_list(e.fields)}"
        + (f"; footage {_list(e.footage)}" if e.footage else "")
        + (f"; records of {e.period[0]} to {e.period[1]}" if e.period else "")
        + ("" if e.redacted is None else "; faces blurred" if e.redacted else "; not redacted")
    ),
    "AcknowledgementRecorded": lambda e, z: (
        f"signed receipt recorded (sha256:{e.signed_receipt_sha256[:16]})"
        + (f" of {release_numbers(e.releases)}" if e.releases else "")
    ),
    "FollowUpOpened": lambda e, z: f"follow-up opened: {e.reason}",
    "FollowUpResolved": lambda e, z: (
        f"follow-up resolved ({e.resolution.replace('_', ' ')}"
        + (f", court order {e.court_order_request}" if e.court_order_request else "")
        + f"): {e.reason}"
    ),
    "PatronRecorded": lambda e, z: f"patron {e.pseudonym} recorded (details sealed)",
    "PatronDetailsRecorded": lambda e, z: "patron details sealed under a new key",
    "PatronForgotten": lambda e, z: f"patron {e.pseudonym} details erased: {e.reason}",
    "ConfidentialRecordRead": lambda e, z: (
        f"read the {_RECORD_WORDS.get(e.record, e.record)} of {e.subject}"
        + (f" ({e.detail})" if e.detail else "")
    ),
    "AccessDenied": lambda e, z: f"REFUSED {e.action} ({e.subject}) under {e.rule_id}: {e.message}",
    "PolicyAdopted": lambda e, z: (
        f"policy version {e.version} adopted ({e.approved_by}, {e.approval_ref}), in force "
        f"from {sitetime.show(e.effective_at, z)}; text sha256:{e.text_sha256[:16]}"
    ),
    "EvidenceExported": lambda e, z: (
        f"evidence export for {e.request_ref} to {e.recipient}: {_list(e.segments)}"
    ),
    "RecordIssued": lambda e, z: (
        f"disclosure record of release {e.release} of {e.request_ref} issued for "
        f"{e.recipient}: record sha256:{e.record_digest[:16]}"
    ),
    "DisclosureRegisterIssued": lambda e, z: (
        f"disclosure register of {len(e.refs)} request(s) handed out"
        + (f", requests opened from {_d(e.since, z)}" if e.since else "")
        + (f" to before {_d(e.until, z)}" if e.until else "")
        + (f", as of {_d(e.as_of, z)}" if e.as_of else "")
        + f": sha256:{e.output_sha256[:16]}"
    ),
    "ClipDerived": lambda e, z: (
        f"clip of {e.segment_id} derived ({'redacted' if e.redaction else 'not redacted'}) "
        f"sha256:{e.sha256[:16]}"
    ),
}


def summarise(event: Any, zone: ZoneInfo) -> str:
    """One line a reviewer can read, times in site time (R24); never patron details (they
    are not in events)."""
    kind = type(event).__name__
    make = _SUMMARIES.get(kind)
    if make is not None:
        try:
            return str(make(event, zone))
        except AttributeError:
            pass  # an older or newer schema of the event: fall back to its fields
    fields = {
        k: v
        for k, v in event.__dict__.items()
        if k not in ("originator_id", "originator_version", "timestamp", "actor", "actor_role")
        and k not in ("occurred_at", "originator_topic", "sealed_details")
    }
    text = "; ".join(
        f"{k}={sitetime.show(v, zone) if isinstance(v, datetime) else v}"
        for k, v in sorted(fields.items())
    )
    return text[:200]


SUBJECT_HELP = (
    "a segment id (12 hex digits, e.g. 34c20c33a713), a request reference (R-2026-0001), "
    "a hold id (H-1A2B3C4D), a camera id (lobby-1) or a patron pseudonym (p- and 16 hex "
    "digits, e.g. p-3f9a0c1d2e4b5a69)"
)


def read_history(
    ledger: Ledger, subject: str, *, actor: str, as_of: datetime | None = None, detail: str = ""
) -> tuple[str, list[HistoryEntry]]:
    """Every event about ``subject`` (recorded by ``as_of`` when given), for legal review
    by a member who may read histories; the read is recorded (R27), a refusal too.
    Returns the subject's key and its entries; NotFound when there are none."""
    from projections.checked import checked
    from projections.registry import open_views

    def read(views: Views) -> Indexed:
        with views.connect() as conn:
            return indexed(conn, key)

    from ledger import rules
    from ledger.reads import READERS

    key = classify(subject)
    # Who may read histories at all, before anything is looked up: a refusal must read the
    # same for a subject that exists and one that does not (no existence oracle).
    ledger.authorize(
        actor, f"read the history of {key}", READERS["history"], rules.READ_CONFIDENTIAL,
        subject=key,
    )  # fmt: skip
    views = open_views(ledger)
    try:
        # the subject index checked against its seal (R29): a deleted or edited index row
        # would otherwise hide an event from a legal review
        ids = checked(views, read).events(ledger)
    finally:
        views.close()
    if not ids:
        raise NotFound(f"No events about {subject!r}. A subject is {SUBJECT_HELP}.")
    ledger.record_read("history", key, actor=actor, detail=detail)
    entries = _entries(ledger, ids)
    if as_of is not None:
        # an act a correction set aside counts as recorded by the correction (``Views``)
        spans = ledger.set_aside_spans(until=as_of)
        entries = [
            e for e in entries if recorded_by(spans, e.notification_id, e.recorded_at) <= as_of
        ]
        if not entries:
            raise NotFound(
                f"No events about {subject!r} were recorded by "
                f"{sitetime.show(as_of, ledger.site().zone)}."
            )
    return key, entries
