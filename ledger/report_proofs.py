"""Provable reports (issue 13, item 9): each row of a report's JSON comes with the log
entries it derives from and their inclusion proofs against the report's signed
checkpoint, so anyone holding the library's public key can check, without the ledger,
that every row rests on entries of the signed log; with the events key, that those
entries say what the row says.

A disclosure row (the register, and the compliance report's disclosures) derives from
the events of one request, whose aggregate id is ``uuid5(NAMESPACE, "request:" + REF)``
(``ledger.disclosure.request_id``); a camera row from its camera's
(``uuid5(NAMESPACE, "camera:" + casefolded name)``). The verifier derives the id from the
row's reference, so a row cannot borrow another subject's entries. The entries are all of that request's
events up to the checkpoint, versions 1, 2, ... without a gap; each carries its encrypted
``state`` (opaque without the events key) so its digest, and with the key its content,
can be checked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.chain import state_digest
from ledger.chain_reader import ChainReader
from ledger.checkpoint import Checkpoint, parse_and_verify, parse_unverified
from ledger.disclosure import request_id
from ledger.errors import InvalidInput
from ledger.footage import camera_id
from ledger.integrity import (
    PROOF_FORMAT,
    InclusionProof,
    MerkleProofFailed,
    check_inclusion,
    inclusion_of,
)
from ledger.merkle import MerkleError

FORMAT = "custodes-report-proofs/1"

# table -> the aggregate id of a row's subject, from the row's reference
SUBJECTS: dict[str, Callable[[str], UUID]] = {
    "disclosures": request_id,  # the compliance report's disclosure rows (request_id = REF)
    "register": request_id,  # report disclosures --prove (ref)
    "cameras": camera_id,  # the compliance report's camera rows (camera_id)
}

# (table, the row's reference) -> the rows a report lists, in order
RowKey = tuple[str, str]
# (table, the row as JSON, its events decrypted in order) -> what they contradict, or None
RowCheck = Callable[[str, dict[str, Any], list[Any]], str | None]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def prove_rows(reader: ChainReader, cp: Checkpoint, note: str, rows: Iterable[RowKey]) -> dict:
    """The ``proofs`` object of a report whose rows are ``rows``, against ``cp``."""
    store = reader.node_store()
    out = []
    try:
        for table, ref in rows:
            aggregate = SUBJECTS[table](ref)
            entries = []
            for row in reader.aggregate_entries(store, aggregate, cp.size):
                proof = inclusion_of(store, row, cp, note).to_json()
                state = row[9]
                entries.append(
                    {
                        **proof["entry"],
                        "state": _b64(state),
                        "inclusion_path": proof["inclusion_path"],
                    }
                )
            out.append(
                {
                    "table": table,
                    "ref": ref,
                    "aggregate": str(aggregate),
                    "positions": [e["position"] for e in entries],
                    "entries": entries,
                }
            )
    finally:
        store.close()
    return {
        "format": FORMAT,
        "checkpoint": note,
        "tree_size": cp.size,
        "root": _b64(cp.root),
        "rows": out,
    }


@dataclass(frozen=True)
class ReportCheck:
    origin: str
    tree_size: int
    rows: int
    entries: int
    contents_checked: bool


def verify_report_proofs(
    rows: Sequence[tuple[RowKey, dict[str, Any]]],
    proofs: Any,
    key: Ed25519PublicKey,
    *,
    decode: Callable[[dict[str, Any]], Any] | None = None,
    check_row: RowCheck | None = None,
) -> tuple[ReportCheck, Checkpoint, str]:
    """Check every row's entries against the report's signed checkpoint.

    ``rows`` are the report's rows as (table, ref) and their JSON; the proofs list one
    item per row, in the same order, whose entries must be of the request the ROW names
    (so an edited reference, or a row given another row's entries, fails). MerkleProofFailed
    (exit 3) when a signature, a proof, a digest or a row's content fails;
    InvalidInput when the document is not a provable report.
    """
    if not isinstance(proofs, dict) or proofs.get("format") != FORMAT:
        raise InvalidInput(f"the report carries no proofs of format {FORMAT}")
    note = str(proofs.get("checkpoint", ""))
    try:
        cp = parse_and_verify(note, key, parse_unverified(note).origin)
    except MerkleError as e:
        raise MerkleProofFailed(f"the report's checkpoint does not verify: {e}") from e
    listed = proofs.get("rows")
    if not isinstance(listed, list):
        raise InvalidInput("the report's proofs list no rows")
    if len(listed) != len(rows):
        raise MerkleProofFailed(
            f"the report lists {len(rows)} rows but proves {len(listed)}: one proof per row, "
            "in the rows' order"
        )
    checked = 0
    numbers: dict[str, int] = {}  # rows are numbered within their table, from 1
    for (row_key, row), item in zip(rows, listed, strict=True):
        table, ref = row_key
        n = numbers[table] = numbers.get(table, 0) + 1
        if not isinstance(item, dict) or item.get("table") != table:
            raise MerkleProofFailed(f"{table} row {n} ({ref}) has no proof")
        entries = _checked_entries(item, table, ref, cp, note, f"{table} row {n} ({ref})")
        checked += len(entries)
        if decode is not None and check_row is not None:
            events = [decode(e) for e in entries]
            problem = check_row(table, row, events)
            if problem is not None:
                raise MerkleProofFailed(
                    f"{table} row {n} ({ref}) is not what its events say: {problem}"
                )
    return (
        ReportCheck(cp.origin, cp.size, len(rows), checked, decode is not None),
        cp,
        note,
    )


def _checked_entries(
    item: dict[str, Any], table: str, ref: str, cp: Checkpoint, note: str, what: str
) -> list[dict[str, Any]]:
    subject = SUBJECTS.get(table)
    if subject is None:
        raise InvalidInput(f"{what}: rows of {table!r} carry no proofs")
    aggregate = str(subject(ref))
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


def _replay(events: list[Any]) -> Any:
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def row_check(
    table: str, row: dict[str, Any], events: list[Any], *, now: bool = True
) -> str | None:
    """What a row says that its subject's events must say too. ``now`` False (a report
    made ``--as-of`` an earlier time, whose rows may say less than the later events):
    only that the events are the row's subject."""
    aggregate = _replay(events)
    if table == "cameras":
        name = row.get("camera_id")
        if aggregate is None or aggregate.camera_id != name:
            return f"the events are not of camera {name}"
        if not now:
            return None
        for field, truth in (
            ("location", aggregate.location),
            ("zone", aggregate.zone),
            ("signage_attested", aggregate.signage_posted),
            ("status", "retired" if aggregate.retired else "active"),
        ):
            if row.get(field) != truth:
                return f"{field} {truth!r} in the events, {row.get(field)!r} in the row"
        return None
    ref = row.get("ref", row.get("request_id"))
    if aggregate is None or aggregate.ref != ref:
        return f"the events are not of request {ref}"
    if not now:
        return None
    if aggregate.requester_kind != row.get("requester_kind"):
        return (
            f"requester {aggregate.requester_kind!r} in the events, "
            f"{row.get('requester_kind')!r} in the row"
        )
    decided = aggregate.decision
    said = row.get("decision")
    truth = "pending" if decided is None else ("approved" if decided["approved"] else "denied")
    if said in ("pending", "approved", "denied") and said != truth:
        return f"decision {truth!r} in the events, {said!r} in the row"
    return None
