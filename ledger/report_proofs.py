"""Provable reports (issue 13, item 9): each row of a report's JSON names the log entries
it derives from, and one proof shows all of them in the report's signed checkpoint, so
anyone holding the library's public key can check, without the ledger, that every row
rests on entries of the signed log; with the events key, that those entries say what the
row says.

Two kinds of rows (docs/REPORTS.md, "Provable rows"):

* a row about a SUBJECT rests on every event of that subject up to the checkpoint,
  versions 1, 2, ... without a gap. The subject's aggregate id is derived from the row
  itself (``ledger.domain.stable_id``): a disclosure row's request
  (``uuid5(NAMESPACE, "request:" + REF)``), a camera row's camera, a held or overdue
  segment's segment (and a hold's hold), an attention item's segment, request, hold or
  the site's settings. A row therefore cannot borrow another subject's entries.
* a row that IS one event (a viewing, a refused attempt, a staff note) rests on that
  one entry: its topic must be of the row's kind, of the row's segment where the row
  names one, and no two rows of a table may rest on the same entry.

Format 2 (``custodes-report-proofs/2``) lists each entry once, however many rows rest on
it, and proves all of them with ONE multi-leaf proof (``ledger.merkle``): the hashes of
the largest subtrees holding none of the entries. Format 1 (an inclusion path per entry,
disclosure and camera rows only) is still checked, for reports already handed out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import rules
from ledger.chain import entry_hash, state_digest
from ledger.chain_reader import ChainReader
from ledger.checkpoint import (
    Checkpoint,
    parse_and_verify,
    parse_unverified,
    sign_note,
    verify_note,
)
from ledger.clock import CLOCK_TOLERANCE
from ledger.disclosure import request_id
from ledger.errors import InvalidInput
from ledger.footage import camera_id, hold_aggregate_id, segment_aggregate_id
from ledger.integrity import (
    PROOF_FORMAT,
    InclusionProof,
    MerkleProofFailed,
    check_inclusion,
)
from ledger.merkle import (
    MerkleError,
    leaf_hash,
    multi_inclusion_nodes,
    multi_inclusion_proof,
    root_from_multi_proof,
)
from ledger.site import SITE_ID, clock_correction_subject, set_aside_of
from ledger.sitetime import iso_utc

FORMAT_V1 = "custodes-report-proofs/1"
FORMAT = "custodes-report-proofs/2"
# The disclosure register (``report disclosures --json --prove``): format 2 states what it
# covers under the library's signature (``coverage_note``); format 1 did not.
REGISTER_FORMAT_V1 = "custodes-disclosure-register/1"
REGISTER_FORMAT = "custodes-disclosure-register/2"

# (table, the row's reference) and the row as JSON
RowKey = tuple[str, str]
Row = tuple[RowKey, dict[str, Any]]
# (table, the row as JSON, its events decrypted in order, their positions in the log) ->
# what they contradict, or None
RowCheck = Callable[[str, dict[str, Any], list[Any], list[int]], str | None]

_SEGMENT = re.compile(r"^[0-9a-f]{12}$")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _str(row: dict[str, Any], key: str) -> str:
    return str(row.get(key))


# ---- which rows a report lists, and what each derives from ---------------------------


def _list(value: Any) -> list[dict[str, Any]]:
    return [r if isinstance(r, dict) else {} for r in value] if isinstance(value, list) else []


def _section(data: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return _list(value)


def _held_ref(r: dict[str, Any]) -> str:
    return f"{_str(r, 'segment_id')} {_str(r, 'kind')} {_str(r, 'reference')}"


# table -> (where its rows are in the compliance report's JSON, the row's reference).
# A new section of rows becomes provable with one line here and one in SUBJECTS (rows
# about a subject: e.g. a per-segment retention row, ``segment_aggregate_id``) or EVENTS
# (one-event rows, whose notification ids projections.proof_sources reads), and its
# check in _CHECKS; both the prover and verify-report read the rows through this table.
COMPLIANCE_TABLES: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "disclosures": (("disclosures", "rows"), lambda r: _str(r, "request_id")),
    "cameras": (("cameras", "rows"), lambda r: _str(r, "camera_id")),
    "held": (("retention", "held"), _held_ref),
    "overdue": (("retention", "overdue"), lambda r: _str(r, "segment_id")),
    "viewings": (
        ("access", "viewings"),
        lambda r: f"{_str(r, 'segment_id')} {_str(r, 'viewed_at')}",
    ),
    "access_refused": (("access", "refused"), lambda r: f"{_str(r, 'name')} {_str(r, 'at')}"),
    "staff_notes": (
        ("access", "staff_notes"),
        lambda r: f"{_str(r, 'segment_id')} {_str(r, 'at')}",
    ),
    "refusals": (("refusals",), lambda r: f"{_str(r, 'actor')} {_str(r, 'at')}"),
    "attention": (("attention",), lambda r: f"{_str(r, 'rule_id')} {_str(r, 'subject_id')}"),
}
V1_TABLES = ("disclosures", "cameras")
# Tables with one row per subject: a request in the register, a camera.
ONE_ROW_EACH = frozenset({"register", "disclosures", "cameras"})


def report_rows(data: Any, *, tables: Sequence[str] | None = None) -> list[Row]:
    """The rows a provable report lists, as ((table, ref), row), in the proofs' order:
    the compliance report's tables in ``COMPLIANCE_TABLES`` order, or the register's."""
    if not isinstance(data, dict):
        raise InvalidInput("not a Custodes report with proofs (a JSON object is expected)")
    if isinstance(data.get("disclosures"), dict):  # the compliance report
        out: list[Row] = []
        for table, (path, ref) in COMPLIANCE_TABLES.items():
            if tables is None or table in tables:
                out += [((table, ref(r)), r) for r in _section(data, *path)]
        return out
    if isinstance(data.get("rows"), list):  # the disclosure register
        return [(("register", _str(r, "ref")), r) for r in _list(data["rows"])]
    raise InvalidInput("not a Custodes report with proofs: no disclosure rows")


def _held_subjects(r: dict[str, Any]) -> list[UUID]:
    subjects = [segment_aggregate_id(_str(r, "segment_id"))]
    if r.get("kind") != "flag":
        subjects.append(hold_aggregate_id(_str(r, "reference").split(" ", 1)[0]))
    return subjects


def _attention_subjects(r: dict[str, Any]) -> list[UUID]:
    rule, subject = r.get("rule_id"), _str(r, "subject_id")
    set_aside = set_aside_of(subject)
    if rule == rules.FOOTAGE_RETENTION.id and set_aside:
        return [segment_aggregate_id(set_aside[0]), SITE_ID]  # its purge, and the correction
    if rule in (
        rules.FOOTAGE_FOUND_MISSING.id, rules.FOOTAGE_RETENTION.id, rules.FOOTAGE_VIEWING_COPY.id
    ) and _SEGMENT.match(subject):  # fmt: skip
        return [segment_aggregate_id(subject)]
    if rule in (rules.LRCA_EMERGENCY_FOLLOWUP.id, rules.FOIA_CLOCK.id):
        return [request_id(subject)]
    if rule == rules.FOOTAGE_HOLD_BLOCKS_PURGE.id:
        return [hold_aggregate_id(subject)]
    if rule == rules.RECORDED_TIME.id:
        return [SITE_ID]  # the Director's clock correction: the site's events
    if rule == rules.FOOTAGE_RETENTION.id and subject == "retention settings":
        return [SITE_ID]  # no schedule authority: the site's settings events say so
    return []  # a count over the period (purges made late): no one subject


# table -> the aggregate ids a row rests on every event of (derived from the row)
SUBJECTS: dict[str, Callable[[dict[str, Any]], list[UUID]]] = {
    "disclosures": lambda r: [request_id(_str(r, "request_id"))],
    "register": lambda r: [request_id(_str(r, "ref"))],
    "cameras": lambda r: [camera_id(_str(r, "camera_id"))],
    "held": _held_subjects,
    "overdue": lambda r: [segment_aggregate_id(_str(r, "segment_id"))],
    "attention": _attention_subjects,
}

_VIEWED = "ledger.footage:Segment.FootageViewed"
_FLAGGED = "ledger.footage:Segment.FootageFlagged"
_DENIED = "ledger.refusals:Refusal.AccessDenied"


def _segment_of(r: dict[str, Any]) -> UUID:
    return segment_aggregate_id(_str(r, "segment_id"))


# table -> (the topics its one event may have, the aggregate it must be of, if any)
EVENTS: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], UUID] | None]] = {
    "viewings": (frozenset({_VIEWED}), _segment_of),
    "staff_notes": (frozenset({_VIEWED, _FLAGGED}), _segment_of),
    "refusals": (frozenset({_DENIED}), None),
    "access_refused": (frozenset({_DENIED}), None),
}


# ---- making the proofs -------------------------------------------------------------------


def _entry_json(row: Sequence[Any]) -> dict[str, Any]:
    nid, oid, version, topic, position, digest, prev, h, act, state = row[:10]
    return {
        "notification_id": nid,
        "position": position,
        "originator_id": str(UUID(bytes=oid)),
        "originator_version": version,
        "topic": topic,
        "state_digest": digest.hex(),
        "prev_hash": prev.hex(),
        "entry_hash": h.hex(),
        "act": None if not act else _b64(act),
        "state": _b64(state),
    }


def prove_rows(
    reader: ChainReader,
    cp: Checkpoint,
    note: str,
    rows: Sequence[Row],
    events: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, Any]:
    """The ``proofs`` object of a report whose rows are ``rows`` (``report_rows``),
    against ``cp``. ``events[table]``: the notification ids of that table's one-event
    rows (``EVENTS``), in the rows' order."""
    events = events or {}
    store = reader.node_store()
    try:
        by_position: dict[int, dict[str, Any]] = {}
        of_subject: dict[UUID, list[int]] = {}
        one: dict[str, list[int]] = {t: [] for t in EVENTS}
        wanted: dict[str, list[int]] = {}
        for (table, _ref), row in rows:
            if table in EVENTS:
                wanted.setdefault(table, [])
                continue
            for subject in SUBJECTS[table](row):
                if subject not in of_subject:
                    entries = reader.aggregate_entries(store, subject, cp.size)
                    of_subject[subject] = [e[4] for e in entries]
                    by_position.update((e[4], _entry_json(e)) for e in entries)
        for table in wanted:
            ids = list(events.get(table, ()))
            found = {e[0]: e for e in reader.entries_by_id(store, ids)}
            for nid in ids:
                entry = found.get(nid)
                if entry is None or entry[4] is None or entry[4] > cp.size:
                    raise InvalidInput(f"{table}: event #{nid} is not under the checkpoint")
                by_position[entry[4]] = _entry_json(entry)
                one[table].append(entry[4])
        out = []
        taken = {t: 0 for t in EVENTS}
        for (table, ref), row in rows:
            if table in EVENTS:
                at = taken[table]
                if at >= len(one[table]):
                    raise InvalidInput(f"{table}: no event given for row {at + 1} ({ref})")
                positions = [one[table][at]]
                taken[table] += 1
            else:
                positions = [p for s in SUBJECTS[table](row) for p in of_subject[s]]
            out.append({"table": table, "ref": ref, "positions": positions})
        indices = sorted(p - 1 for p in by_position)
        nodes: list[bytes] = []
        if indices:  # a report without rows proves nothing
            store.prefetch(multi_inclusion_nodes(indices, cp.size))
            nodes = multi_inclusion_proof(indices, cp.size, store)
    finally:
        store.close()
    return {
        "format": FORMAT,
        "checkpoint": note,
        "tree_size": cp.size,
        "root": _b64(cp.root),
        "entries": [by_position[p] for p in sorted(by_position)],
        "multi_proof": [_b64(h) for h in nodes],
        "rows": out,
    }


# ---- checking them --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportCheck:
    origin: str
    tree_size: int
    rows: int
    entries: int
    contents_checked: bool
    unproven: int = 0  # rows that rest on no one subject (a count over the period)


def verify_report_proofs(
    rows: Sequence[Row],
    proofs: Any,
    key: Ed25519PublicKey,
    *,
    decode: Callable[[dict[str, Any]], Any] | None = None,
    check_row: RowCheck | None = None,
    key_name: str | None = None,
    entries_of: Callable[[UUID, int], int] | None = None,
) -> tuple[ReportCheck, Checkpoint, str]:
    """Check every row's entries against the report's signed checkpoint.

    ``rows`` are the report's rows (``report_rows``); the proofs list one item per row,
    in the same order. MerkleProofFailed (exit 3) when a signature, the proof, a digest,
    an entry a row rests on, or (with ``decode`` and ``check_row``) a row's content fails;
    InvalidInput when the document is not a provable report. ``entries_of(subject,
    size)``: how many entries the ledger holds of a subject under a tree of that size
    (with the ledger at hand, ``--events``), so that a row resting on a subject's first
    entries but not its newest fails."""
    if not isinstance(proofs, dict) or proofs.get("format") not in (FORMAT, FORMAT_V1):
        raise InvalidInput(f"the report carries no proofs of format {FORMAT}")
    note = str(proofs.get("checkpoint", ""))
    try:
        # a vkey's name pins the log (as verify-proof does); a PEM key has none
        cp = parse_and_verify(note, key, key_name or parse_unverified(note).origin)
    except MerkleError as e:
        raise MerkleProofFailed(f"the report's checkpoint does not verify: {e}") from e
    listed = proofs.get("rows")
    if not isinstance(listed, list):
        raise InvalidInput("the report's proofs list no rows")
    if proofs["format"] == FORMAT_V1:
        rows = [r for r in rows if r[0][0] in V1_TABLES + ("register",)]
    if len(listed) != len(rows):
        raise MerkleProofFailed(
            f"the report lists {len(rows)} rows but proves {len(listed)}: one proof per row, "
            "in the rows' order"
        )
    if proofs["format"] == FORMAT_V1:
        check = _verify_v1(rows, listed, cp, note, decode, check_row)
    else:
        check = _verify_v2(rows, listed, proofs, cp, decode, check_row, entries_of)
    return check, cp, note


def check_integrity_block(data: Any, cp: Checkpoint, key: Ed25519PublicKey) -> None:
    """A compliance report's integrity block says what its checkpoint says: the size and
    root the rows were proved against, and the key that signed it (red team, session 16:
    every field of the block, the key fingerprint a recipient compares included, could be
    edited and the report still verified). MerkleProofFailed when it does not."""
    from ledger.checkpoint import public_key_fingerprint
    from ledger.integrity import MerkleProofFailed

    block = data.get("integrity") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        return  # the register (report disclosures --prove) has none
    said = {
        "verified": (block.get("verified"), True),
        "entries": (block.get("entries"), cp.size),
        "tree_size": (block.get("tree_size"), cp.size),
        "merkle_root": (block.get("merkle_root"), cp.root.hex()),
        "key_fingerprint": (block.get("key_fingerprint"), public_key_fingerprint(key)),
    }
    for name, (claimed, proved) in said.items():
        if claimed != proved:
            raise MerkleProofFailed(
                f"the report's integrity block says {name} {claimed!r}; its signed checkpoint "
                f"and key say {proved!r}"
            )


# ---- what a register covers, under the library's signature ----------------------------


def stated_time(said: Any, what: str) -> datetime | None:
    """A time a report states (``as_of``, a register's ``since`` and ``until``): None, or
    an ISO-8601 time with its zone; InvalidInput otherwise."""
    if said is None:
        return None
    try:
        moment = datetime.fromisoformat(str(said).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(f"the report's {what} {said!r} is not a time with its zone")
    return moment


def rows_digest(rows: Any) -> str:
    """SHA-256 of a register's rows as JSON with sorted keys and no spaces: the same for
    the rows written and for the rows read back from the file."""
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _coverage_text(
    cp: Checkpoint,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime | None,
    rows: Any,
) -> bytes:
    def bound(moment: datetime | None) -> str:
        return "none" if moment is None else iso_utc(moment)

    return (
        f"{REGISTER_FORMAT}\n{cp.origin}\ncheckpoint {cp.size} {_b64(cp.root)}\n"
        f"since {bound(since)}\nuntil {bound(until)}\nas_of {bound(as_of)}\n"
        f"rows {len(rows)} sha256:{rows_digest(rows)}\n"
    ).encode()


def coverage_note(
    cp: Checkpoint,
    signing_key: Any,
    *,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime | None,
    rows: Any,
) -> str:
    """The register's statement of what it covers, a signed note by the checkpoint's key:
    the checkpoint, the requests opened from ``since`` to before ``until`` (``none``: no
    bound), as of ``as_of`` (``none``: the checkpoint), and how many rows with their
    digest. Without it a register could lose a row, and its proof, and still verify (an
    outside review, F6): the rows' proofs say what each row rests on, not which rows."""
    return sign_note(_coverage_text(cp, since, until, as_of, rows), signing_key, cp.origin)


def check_coverage(
    data: dict[str, Any], cp: Checkpoint, key: Ed25519PublicKey, key_name: str | None
) -> dict[str, datetime | None]:
    """A register of format 2's statement of what it covers: signed by the key, of its
    checkpoint, and saying the file's own ``since``, ``until``, ``as_of`` and rows.
    Returns those three times; MerkleProofFailed when the statement fails."""
    note = data.get("coverage")
    if not isinstance(note, str):
        raise MerkleProofFailed(
            f"the register says it is of format {REGISTER_FORMAT} but states no coverage"
        )
    try:
        signed = verify_note(note, key, key_name or cp.origin)
    except MerkleError as e:
        raise MerkleProofFailed(f"the register's statement of what it covers fails: {e}") from e
    said = {k: stated_time(data.get(k), k) for k in ("since", "until", "as_of")}
    rows = data.get("rows")
    expected = _coverage_text(cp, said["since"], said["until"], said["as_of"], rows).decode()
    for signed_line, file_line in zip(signed.split("\n"), expected.split("\n"), strict=False):
        if signed_line != file_line:
            raise MerkleProofFailed(
                f"the register's signed statement says {signed_line!r}, the file "
                f"{file_line!r}: it was changed after it was signed"
            )
    if signed != expected:
        raise MerkleProofFailed("the register's signed statement is not of this file")
    return said


def _entries(proofs: dict[str, Any], cp: Checkpoint) -> dict[int, dict[str, Any]]:
    """Format 2's entries by position, each hashed from its fields and its state matched
    to its digest, and all of them proven by the one multi-leaf proof."""
    listed = proofs.get("entries")
    hashes = proofs.get("multi_proof")
    if not isinstance(listed, list) or not isinstance(hashes, list):
        raise InvalidInput("the report's proofs carry no entries and multi_proof")
    by_position: dict[int, dict[str, Any]] = {}
    leaves: dict[int, bytes] = {}
    for entry in listed:
        if not isinstance(entry, dict):
            raise InvalidInput("an entry of the report's proofs is not an object")
        try:
            position = int(entry["position"])
            fields = (
                position,
                bytes.fromhex(entry["prev_hash"]),
                int(entry["notification_id"]),
                UUID(entry["originator_id"]).bytes,
                int(entry["originator_version"]),
                str(entry["topic"]),
                bytes.fromhex(entry["state_digest"]),
                base64.b64decode(entry["act"], validate=True) if entry.get("act") else None,
            )
            claimed = bytes.fromhex(entry["entry_hash"])
            state = base64.b64decode(str(entry.get("state", "")), validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            raise InvalidInput(f"an entry of the report's proofs is malformed: {e}") from e
        if not 1 <= position <= cp.size or position in by_position:
            raise MerkleProofFailed(
                f"entry {position} is listed twice or lies outside the checkpoint's "
                f"{cp.size} entries"
            )
        recomputed = entry_hash(*fields)
        if recomputed != claimed:
            raise MerkleProofFailed(f"entry {position}'s fields do not hash to its entry hash")
        if state_digest(state) != fields[6]:
            raise MerkleProofFailed(f"entry {position}'s state does not match its digest")
        entry["_state"] = state
        by_position[position] = entry
        leaves[position - 1] = leaf_hash(recomputed)
    if not leaves:
        return by_position
    try:
        nodes = [base64.b64decode(str(h), validate=True) for h in hashes]
        root = root_from_multi_proof(leaves, cp.size, nodes)
    except (ValueError, binascii.Error, MerkleError) as e:
        raise MerkleProofFailed(f"the report's entries are not proven: {e}") from e
    if root != cp.root:
        raise MerkleProofFailed(
            "the report's entries are not in the signed checkpoint: they and the proof "
            f"compute root {root.hex()}, the checkpoint signs {cp.root.hex()}"
        )
    return by_position


def _verify_v2(
    rows: Sequence[Row],
    listed: list[Any],
    proofs: dict[str, Any],
    cp: Checkpoint,
    decode: Callable[[dict[str, Any]], Any] | None,
    check_row: RowCheck | None,
    entries_of: Callable[[UUID, int], int] | None = None,
) -> ReportCheck:
    by_position = _entries(proofs, cp)
    used: dict[tuple[str, int], int] = {}  # (table, position) -> the row resting on it
    numbers: dict[str, int] = {}  # rows are numbered within their table, from 1
    once: dict[tuple[str, str], int] = {}  # (table, ref) of a one-row-per-subject table
    unproven = 0
    for ((table, ref), row), item in zip(rows, listed, strict=True):
        n = numbers[table] = numbers.get(table, 0) + 1
        what = f"{table} row {n} ({ref})"
        if not isinstance(item, dict) or item.get("table") != table or item.get("ref") != ref:
            raise MerkleProofFailed(f"{what} has no proof (the proofs are of other rows)")
        if table in ONE_ROW_EACH and once.setdefault((table, ref), n) != n:
            # red team, session 22: a register listing a request twice passed
            raise MerkleProofFailed(f"{what} is listed twice (row {once[(table, ref)]} too)")
        positions = item.get("positions")
        if not isinstance(positions, list) or not all(type(p) is int for p in positions):
            raise InvalidInput(f"{what}: its positions are not a list of numbers")
        missing = [p for p in positions if p not in by_position]
        if missing:
            raise MerkleProofFailed(f"{what}: entry {missing[0]} is not among the proven entries")
        entries = [by_position[p] for p in positions]
        if table in EVENTS:
            _one_event(what, table, row, entries, used, n)
        elif table in SUBJECTS:
            subjects = SUBJECTS[table](row)
            if not subjects:
                if positions:
                    raise MerkleProofFailed(f"{what} rests on no one subject but lists entries")
                unproven += 1
                continue
            entries = _subject_entries(what, subjects, entries)
            if entries_of is not None:
                _newest(what, subjects, entries, cp.size, entries_of)
        else:
            raise InvalidInput(f"{what}: rows of {table!r} carry no proofs")
        if decode is not None and check_row is not None:
            problem = check_row(
                table, row, [decode(e) for e in entries], [int(e["position"]) for e in entries]
            )
            if problem is not None:
                raise MerkleProofFailed(f"{what} is not what its events say: {problem}")
    return ReportCheck(
        cp.origin, cp.size, len(rows), len(by_position), decode is not None, unproven
    )


def _one_event(
    what: str,
    table: str,
    row: dict[str, Any],
    entries: list[dict[str, Any]],
    used: dict[tuple[str, int], int],
    n: int,
) -> None:
    if len(entries) != 1:
        raise MerkleProofFailed(f"{what} must rest on exactly one entry, it lists {len(entries)}")
    entry = entries[0]
    topics, aggregate = EVENTS[table]
    if entry["topic"] not in topics:
        raise MerkleProofFailed(f"{what}: entry {entry['position']} is a {entry['topic']}")
    if aggregate is not None and UUID(entry["originator_id"]) != aggregate(row):
        raise MerkleProofFailed(
            f"{what}: entry {entry['position']} is of another subject ({entry['originator_id']})"
        )
    other = used.setdefault((table, entry["position"]), n)
    if other != n:
        raise MerkleProofFailed(
            f"{what}: entry {entry['position']} is already the proof of {table} row {other}"
        )


def _subject_entries(
    what: str, subjects: list[UUID], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every entry of each subject, versions 1, 2, ... in order; nothing else."""
    foreign = [e for e in entries if UUID(e["originator_id"]) not in subjects]
    if foreign:
        raise MerkleProofFailed(
            f"{what}: entry {foreign[0]['position']} is of another subject "
            f"({foreign[0]['originator_id']})"
        )
    ordered: list[dict[str, Any]] = []
    for subject in subjects:
        mine = [e for e in entries if UUID(e["originator_id"]) == subject]
        if not mine:
            raise MerkleProofFailed(f"{what} lists no log entries of its subject {subject}")
        for version, entry in enumerate(mine, 1):
            if int(entry["originator_version"]) != version:
                raise MerkleProofFailed(
                    f"{what}: entries skip from version {version - 1} to "
                    f"{entry['originator_version']} (an event is left out)"
                )
        ordered += mine
    return ordered


def _newest(
    what: str,
    subjects: list[UUID],
    entries: list[dict[str, Any]],
    size: int,
    entries_of: Callable[[UUID, int], int],
) -> None:
    """A row rests on every entry of its subjects under the checkpoint, the newest too
    (red team, session 22: a register row resting on a request's first entries, with its
    later release and denial left out and the proof computed again, passed)."""
    for subject in subjects:
        listed = sum(1 for e in entries if UUID(e["originator_id"]) == subject)
        held = entries_of(subject, size)
        if listed != held:
            raise MerkleProofFailed(
                f"{what} rests on {listed} entries of its subject {subject}, but the log holds "
                f"{held} under the checkpoint: its newer events are left out"
            )


def _verify_v1(
    rows: Sequence[Row],
    listed: list[Any],
    cp: Checkpoint,
    note: str,
    decode: Callable[[dict[str, Any]], Any] | None,
    check_row: RowCheck | None,
) -> ReportCheck:
    """Format 1: each disclosure and camera row carries its entries with their paths."""
    checked = 0
    numbers: dict[str, int] = {}
    for ((table, ref), row), item in zip(rows, listed, strict=True):
        n = numbers[table] = numbers.get(table, 0) + 1
        if not isinstance(item, dict) or item.get("table") != table:
            raise MerkleProofFailed(f"{table} row {n} ({ref}) has no proof")
        entries = _checked_entries(item, table, row, cp, note, f"{table} row {n} ({ref})")
        checked += len(entries)
        if decode is not None and check_row is not None:
            events = [decode(e) for e in entries]
            problem = check_row(table, row, events, [int(e["position"]) for e in entries])
            if problem is not None:
                raise MerkleProofFailed(
                    f"{table} row {n} ({ref}) is not what its events say: {problem}"
                )
    return ReportCheck(cp.origin, cp.size, len(rows), checked, decode is not None)


def _checked_entries(
    item: dict[str, Any],
    table: str,
    row: dict[str, Any],
    cp: Checkpoint,
    note: str,
    what: str,
) -> list[dict[str, Any]]:
    aggregate = str(SUBJECTS[table](row)[0])
    entries = item.get("entries")
    if not isinstance(entries, list) or not entries:
        raise MerkleProofFailed(f"{what} lists no log entries")
    for version, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise InvalidInput(f"{what}: an entry is not an object")
        proof = InclusionProof.from_json(
            {
                "format": PROOF_FORMAT,
                "entry": entry,
                "tree_size": cp.size,
                "root": _b64(cp.root),
                "inclusion_path": entry.get("inclusion_path", []),
                "checkpoint": note,
            }
        )
        if str(proof.originator_id) != aggregate:
            raise MerkleProofFailed(
                f"{what}: entry {proof.position} is of another subject ({proof.originator_id})"
            )
        if proof.originator_version != version:
            raise MerkleProofFailed(
                f"{what}: entries skip from version {version - 1} to "
                f"{proof.originator_version} (an event is left out)"
            )
        try:
            state = base64.b64decode(str(entry.get("state", "")), validate=True)
        except binascii.Error as e:
            raise InvalidInput(f"{what}: entry {proof.position}'s state is not base64") from e
        if state_digest(state) != proof.state_digest:
            raise MerkleProofFailed(
                f"{what}: entry {proof.position}'s state does not match its digest"
            )
        try:
            check_inclusion(proof, cp)
        except MerkleProofFailed as e:
            raise MerkleProofFailed(f"{what}: entry {proof.position}: {e}") from e
        entry["_state"] = state
    if item.get("positions") != [e["position"] for e in entries]:
        raise MerkleProofFailed(f"{what}: its positions are not those of its entries")
    return entries


# ---- what the events say (with the events key) ------------------------------------------


def _replay(events: list[Any]) -> Any:
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def _differs(row: dict[str, Any], pairs: Sequence[tuple[str, Any]]) -> str | None:
    for field, truth in pairs:
        if row.get(field) != truth:
            return f"{field} {truth!r} in the events, {row.get(field)!r} in the row"
    return None


def _of(events: list[Any], aggregate: UUID) -> list[Any]:
    return [e for e in events if e.originator_id == aggregate]


def row_check(
    table: str,
    row: dict[str, Any],
    events: list[Any],
    positions: Sequence[int] = (),
    *,
    as_of: datetime | None = None,
    replayed: Callable[[str, dict[str, Any], list[Any]], str | None] | None = None,
    corrections: Sequence[tuple[Any, int]] = (),
) -> str | None:
    """What a row says that its events must say too. ``replayed``: a further check of the
    row against its events (read models rebuild their rows with their own handlers:
    ``projections.disclosures.row_problem``), given the same events. ``positions``: the events' entries'
    positions in the log, when known (an event is set aside by a clock correction when it
    lies between the first act the correction names and the correction itself). ``as_of``:
    the time a report made ``--as-of`` states it is as of; its rows are checked whole
    against the events recorded by then, as the report read them. The time is the
    report's own claim, not a switch: before session 14 a report stating one had only its
    subjects checked, so a row edited and given an ``as_of`` passed (red team).
    ``corrections``: the log's clock corrections with their positions, when the caller
    has the ledger (a request's own events hold none: a register row made ``--as-of``
    after a correction that set its request's opening aside failed, red team of session
    23)."""
    check = _CHECKS.get(table)
    if check is None:
        return None
    placed = _Placed(events, positions)
    if as_of is not None:
        # an event a correction recorded by then set aside came before the correction,
        # whatever its own time (``Views``: the as-of report read it so)
        by_then = [
            e for e in events if type(e).__name__ == "ClockCorrected" and e.timestamp <= as_of
        ]
        for c, at in corrections:
            if c.timestamp <= as_of:
                placed.place(c, at)
                by_then.append(c)
        events = [
            e
            for e in events
            if e.timestamp <= as_of or any(placed.set_aside_by(c, e) for c in by_then)
        ]
        if not events:
            return f"its events were all recorded after {_iso(as_of)}, the time the report is as of"
    try:
        if check is _attention:  # a purge set aside is read by its place in the log
            problem = _attention(row, events, placed)
        else:
            problem = check(row, events)
        if problem is None and replayed is not None:
            problem = replayed(table, row, events)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
        # a row no report writes (red team, session 22: a number among the released
        # fields stopped verify-report with a traceback, not a verdict)
        problem = f"the row cannot be read ({type(e).__name__}: {e})"
    return problem


class _Placed:
    """Where each of a row's events lies in the log, when the proofs say (the session 19
    review: by times alone, a purge recorded after a clock correction, by a trusted clock,
    at a time within the span the correction set aside, read as set aside)."""

    def __init__(self, events: Sequence[Any], positions: Sequence[int]) -> None:
        known = len(positions) == len(events)
        self._at = {id(e): p for e, p in zip(events, positions, strict=False)} if known else {}

    def place(self, event: Any, position: int) -> None:
        """An event from elsewhere in the log (a clock correction) at its position, when
        the row's own events' positions are known (else they are judged by time alone)."""
        if self._at:
            self._at[id(event)] = position

    def set_aside_by(self, correction: Any, event: Any) -> bool:
        """Whether the clock correction set ``event`` aside: by position, it lies from the
        first act the correction names up to the correction itself, and by time, it is
        among the times the correction set aside. Without positions (a caller that has
        none), by time alone."""
        if not _set_aside_by(correction, event.timestamp):
            return False
        at, since = self._at.get(id(event)), self._at.get(id(correction))
        if at is None or since is None:
            return not self._at
        return bool(correction.from_position <= at < since)


def _camera(row: dict[str, Any], events: list[Any]) -> str | None:
    aggregate = _replay(events)
    name = row.get("camera_id")
    if aggregate is None or aggregate.camera_id != name:
        return f"the events are not of camera {name}"
    return _differs(
        row,
        (
            ("location", aggregate.location),
            ("zone", aggregate.zone),
            ("signage_attested", aggregate.signage_posted),
            ("status", "retired" if aggregate.retired else "active"),
        ),
    )


def _request(row: dict[str, Any], events: list[Any]) -> str | None:
    aggregate = _replay(events)
    ref = row.get("ref", row.get("request_id"))
    if aggregate is None or aggregate.ref != ref:
        return f"the events are not of request {ref}"
    if aggregate.requester_kind != row.get("requester_kind"):
        return (
            f"requester {aggregate.requester_kind!r} in the events, "
            f"{row.get('requester_kind')!r} in the row"
        )
    said = row.get("decision")
    truth = aggregate.decision_state()
    if said != truth:  # a register row always states one: a row without it is not one
        return f"decision {truth!r} in the events, {said!r} in the row"
    return _released(row, aggregate)


def _released(row: dict[str, Any], request: Any) -> str | None:
    """What went to whom, as the releases recorded it (red team, session 16: a register
    row's recipient and released fields were proven to rest on the request's entries but
    not read from them, so a row naming another recipient or more fields passed)."""
    fields, footage = request.released_fields, request.released_footage
    if "released_footage" in row:  # the register: fields and footage apart
        claims: list[tuple[str, Any, Any]] = [
            ("released fields", sorted(row.get("released_fields") or []), fields),
            ("released footage", sorted(row.get("released_footage") or []), footage),
        ]
    else:  # the compliance report: footage as "footage:<segment>" among the fields
        both = sorted([*fields, *(f"footage:{s}" for s in footage)])
        claims = [("released fields", sorted(row.get("released_fields") or []), both)]
    if "released_to" in row:
        claims.append(("released to", row.get("released_to") or None, request.released_to))
    for what, claimed, truth in claims:
        if claimed != truth:
            return f"{what} {truth!r} in the events, {claimed!r} in the row"
    return None


def _segment(
    row: dict[str, Any], events: list[Any], *, names_camera: bool
) -> tuple[Any, str | None]:
    """``names_camera``: the table's rows state the camera (held, overdue), so a row
    without one is not a row of it; an attention item names only the segment."""
    sid = row.get("segment_id", row.get("subject_id"))
    segment = _replay(_of(events, segment_aggregate_id(str(sid))))
    if segment is None or segment.segment_id != sid:
        return None, f"the events are not of segment {sid}"
    if not names_camera:
        return segment, None
    return segment, _differs(row, (("camera_id", segment.camera_id),))


def _held(row: dict[str, Any], events: list[Any]) -> str | None:
    segment, problem = _segment(row, events, names_camera=True)
    if problem is not None:
        return problem
    problem = _differs(
        row,
        (
            ("recorded_start", _iso(segment.recorded_start)),
            ("recorded_end", _iso(segment.recorded_end)),
        ),
    )
    if problem is not None:
        return problem
    if segment.purged:
        return "the segment was purged"
    reference = str(row.get("reference"))
    if row.get("kind") == "flag":
        if reference not in segment.flags:
            return f"flag {reference} is not open on the segment"
        flagged = [
            e for e in events if type(e).__name__ == "FootageFlagged" and e.flag_id == reference
        ]
        return _differs(
            row,
            (
                ("reason", _flag_reason(flagged[-1]) if flagged else None),
                ("review_by", _iso(segment.flags[reference])),
                *_placed(row, flagged[-1] if flagged else None),
            ),
        )
    hold_id = reference.split(" ", 1)[0]
    its = _of(events, hold_aggregate_id(hold_id))
    hold = _replay(its)
    if hold is None or hold.hold_id != hold_id:
        return f"the events are not of hold {hold_id}"
    if hold_id not in segment.holds or not hold.active:
        return f"hold {hold_id} is not active on the segment"
    return _differs(
        row,
        (
            ("kind", hold.kind),
            ("reason", hold.reason),
            ("reference", f"{hold.hold_id} ({hold.reference})"),
            ("review_by", _iso(hold.review_by)),
            *_placed(row, its[0]),
        ),
    )


def _placed(row: dict[str, Any], placing: Any) -> tuple[tuple[str, Any], ...]:
    """When the flag or hold was placed, checked when the row states it (session 14)."""
    if "placed_at" not in row:
        return ()
    return (("placed_at", None if placing is None else _iso(placing.timestamp)),)


def _flag_reason(event: Any) -> str:
    """The incident first, as the report's flag rows name it (R13)."""
    return f"{event.incident}: {event.reason}" if event.incident else str(event.reason)


def _overdue(row: dict[str, Any], events: list[Any]) -> str | None:
    segment, problem = _segment(row, events, names_camera=True)
    if problem is not None:
        return problem
    if segment.purged:
        return "the segment was purged"
    if segment.holds:
        return f"the segment is held ({', '.join(sorted(segment.holds))}), so not overdue"
    return None


def _attention(row: dict[str, Any], events: list[Any], placed: _Placed | None = None) -> str | None:
    rule, subject = row.get("rule_id"), str(row.get("subject_id"))
    set_aside = set_aside_of(subject)
    if rule == rules.FOOTAGE_RETENTION.id and set_aside:
        return _set_aside_purge(*set_aside, events, placed or _Placed(events, ()))
    if _SEGMENT.match(subject):
        segment, problem = _segment(row, events, names_camera=False)
        if problem is not None:
            return problem
        if rule == rules.FOOTAGE_VIEWING_COPY.id:  # a copy not there to destroy, purged or not
            return _copies_not_found(str(row.get("text", "")), events)
        if segment.purged:
            return "the segment was purged"
        text = str(row.get("text", ""))
        recorded = not text.startswith("Found while")  # else: the vault audit, just now
        if rule == rules.FOOTAGE_FOUND_MISSING.id and recorded and not segment.missing:
            return "the events record no footage found missing"
        return None
    aggregate = _replay(events)
    if rule in (rules.LRCA_EMERGENCY_FOLLOWUP.id, rules.FOIA_CLOCK.id):
        if aggregate is None or getattr(aggregate, "ref", None) != subject:
            return f"the events are not of request {subject}"
        return None
    if rule == rules.FOOTAGE_HOLD_BLOCKS_PURGE.id:
        if aggregate is None or getattr(aggregate, "hold_id", None) != subject:
            return f"the events are not of hold {subject}"
        if not aggregate.active:
            return f"hold {subject} was released"
        return None
    if rule == rules.RECORDED_TIME.id:
        corrected = {
            clock_correction_subject(c.timestamp)
            for c in getattr(aggregate, "clock_corrections", [])
        }
        return None if subject in corrected else "the events record no clock correction then"
    unset = aggregate is not None and aggregate.schedule_authority is None
    if subject == "retention settings" and not unset:
        return "the site's settings record a schedule authority"
    return None


def _copies_not_found(text: str, events: list[Any]) -> str | None:
    """The item names each copy the segment's events record not found, with who made it,
    and no other (the session 19 review: only that one was recorded was checked, so an
    item naming another path or another viewer passed)."""
    made = {
        e.copy_path: e.actor
        for e in events
        if type(e).__name__ == "FootageViewed" and getattr(e, "copy_path", None)
    }
    absent = [
        path
        for e in events
        if type(e).__name__ == "ViewingCopiesDestroyed"
        for path in getattr(e, "not_found", None) or ()
    ]
    if not absent:
        return "the events record no viewing copy not found"
    for path in absent:
        if f"{path}, made by {made.get(path)} on " not in text:
            return f"the item does not name the copy {path} made by {made.get(path)}"
    if text.count(", made by ") != len(absent):
        return f"the item names other copies than the {len(absent)} the events record not found"
    return None


def _set_aside_purge(
    segment_id: str, correction: str, events: list[Any], placed: _Placed
) -> str | None:
    """The segment's purge is among the acts the named clock correction set aside: in the
    log from the first of them up to the correction, timed after the correction's own
    time (by more than the clocks' tolerance: the acts it set aside were ahead of its
    clock) and no later than the latest of them."""
    oid = segment_aggregate_id(segment_id)
    segment = _replay(_of(events, oid))
    if segment is None or segment.segment_id != segment_id:
        return f"the events are not of segment {segment_id}"
    purges = [e for e in _of(events, oid) if type(e).__name__ == "FootagePurged"]
    if not purges:
        return "the events record no purge of the segment"
    for c in getattr(_replay(_of(events, SITE_ID)), "clock_corrections", []):
        if clock_correction_subject(c.timestamp) != correction:
            continue
        if any(placed.set_aside_by(c, p) for p in purges):
            return None
        return "the segment's purge is not among the times that clock correction set aside"
    return "the events record no clock correction then"


def _set_aside_by(correction: Any, recorded: datetime) -> bool:
    """Whether a time is among those the clock correction set aside: after the
    correction's own time by more than the clocks' tolerance (the acts it set aside were
    ahead of its clock) and no later than the latest of them (recorded by corrections
    since session 19; before, the last act's time, which an earlier act may pass by the
    tolerance). Times only: the entries' order is not read here."""
    latest = getattr(correction, "latest", "")
    upper = (
        datetime.fromisoformat(latest.replace("Z", "+00:00"))
        if latest
        else datetime.fromisoformat(correction.set_aside.replace("Z", "+00:00")) + CLOCK_TOLERANCE
    )
    return bool(correction.timestamp + CLOCK_TOLERANCE < recorded <= upper)


def _event(fields: Sequence[tuple[str, str]]) -> Callable[..., str | None]:
    def check(row: dict[str, Any], events: list[Any]) -> str | None:
        (event,) = events
        truth = {
            "at": _iso(event.timestamp),
            "viewed_at": _iso(event.timestamp),
            "name": event.actor,
            "actor": event.actor,
            "role": event.actor_role,
        }
        pairs = [(f, truth[a] if a in truth else getattr(event, a)) for f, a in fields]
        if "signed_in" in row:  # refusals since session 14: whether the name was signed in
            pairs.append(("signed_in", bool(getattr(event, "authenticated", True))))
        return _differs(row, pairs)

    return check


def _staff_note(row: dict[str, Any], events: list[Any]) -> str | None:
    (event,) = events
    flag = type(event).__name__ == "FootageFlagged"
    act, what = ("flag", event.incident) if flag else (event.kind, event.purpose)
    return _differs(
        row,
        (("name", event.actor), ("at", _iso(event.timestamp)), ("act", act),
         ("stated", f"{what}: {event.reason}"), ("note", event.staff_note)),
    )  # fmt: skip


_CHECKS: dict[str, Callable[[dict[str, Any], list[Any]], str | None]] = {
    "disclosures": _request,
    "register": _request,
    "cameras": _camera,
    "held": _held,
    "overdue": _overdue,
    "attention": _attention,
    "viewings": _event(
        [
            ("name", "name"),
            ("role", "role"),
            ("viewed_at", "viewed_at"),
            ("purpose", "purpose"),
            ("reason", "reason"),
            ("remote", "remote"),
            ("archived", "archived"),
        ]
    ),  # fmt: skip
    "refusals": _event(
        [
            ("at", "at"),
            ("actor", "actor"),
            ("role", "role"),
            ("action", "action"),
            ("rule_id", "rule_id"),
            ("message", "message"),
        ]
    ),  # fmt: skip
    "access_refused": _event(
        [
            ("name", "name"),
            ("role", "role"),
            ("at", "at"),
            ("rule_id", "rule_id"),
            ("message", "message"),
        ]
    ),  # fmt: skip
    "staff_notes": _staff_note,
}
