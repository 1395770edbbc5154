"""`custodes verify-report --events` rebuilds a register row from its request's events with
the register's own handler (projections.disclosures.row_problem) and compares every column
those events write, on SQLite and PostgreSQL. Red team, session 21: the legal-basis columns
(the court order and its scope, counsel's review, the signed form, who received it, when it
was released) were not compared, so a row edited in them passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from cli.common import to_jsonable
from ledger.app import Ledger
from ledger.disclosure import request_id
from projections.disclosures import row_problem
from tests.integration.test_disclosure_ledger import (
    CARD,
    COUNSEL,
    DIRECTOR,
    STAFF,
    open_request,
    record_order,
    register,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)


def _ordered(ledger: Ledger, now: datetime) -> tuple[str, dict[str, Any], list[Any]]:
    """A court order's request, reviewed, decided and released: its register row as a
    report states it (JSON) and its request's events."""
    ref = open_request(ledger, now, "court", ["registration"], patron_card=CARD)
    record_order(ledger, ref, now)
    ledger.record_counsel_review(ref, result="sufficient", notes="", actor=COUNSEL)
    ledger.clock.set(now + timedelta(minutes=30))
    ledger.decide(ref, approve=True, reason="a valid order", actor=DIRECTOR)
    ledger.release(ref, fields=["name"], to="Circuit Court clerk", method="in person",
                   actor=DIRECTOR)  # fmt: skip
    row = to_jsonable(register(ledger)[ref])
    events = list(ledger.repository.event_store.get(request_id(ref)))
    return ref, row, events


@pytest.mark.parametrize(
    "column,value",
    [
        ("court_order", "order 2026-CF-1 (Circuit Court; signed by a judge)"),
        ("scope", "patrons every patron"),
        ("counsel_review", "pending"),
        ("received_by", DIRECTOR),
        ("released_at", "2020-01-01T00:00:00+00:00"),
        ("decided_by", STAFF),
        ("basis", "emergency"),
        ("rules", []),
    ],
)
def test_a_register_row_edited_in_its_legal_basis_is_not_what_its_events_say(
    ledger: Ledger,  # noqa: F811
    now: datetime,
    column: str,
    value: Any,
) -> None:
    _ref, row, events = _ordered(ledger, now)
    assert row_problem("register", row, events) is None  # the row as the register has it
    assert row[column] != value
    said = row_problem("register", {**row, column: value}, events)
    assert said is not None and said.startswith(f"{column} ") and "in the events" in said


def test_columns_other_events_write_are_left_to_them(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """A refusal on the request (AccessDenied) and a forgotten patron (PatronForgotten) are
    not the request's own events: their columns are not judged from those."""
    _ref, row, events = _ordered(ledger, now)
    assert row_problem("register", {**row, "refusals": 7, "patron_erased": True}, events) is None
    assert row_problem("cameras", row, events) is None  # another table: not this check's


def _proved_register(ledger: Ledger) -> tuple[list[Any], dict[str, Any], Any]:
    """The register's rows as `report disclosures --prove` writes them, their proofs, and
    the library's public key."""
    from ledger.integrity import issue_checkpoint, open_chain
    from ledger.report_proofs import prove_rows, report_rows

    assert ledger.datadir is not None
    key = ledger.datadir.signing_key(None)
    reader = open_chain(ledger.datadir)
    cp, note = issue_checkpoint(reader, origin=ledger.site().log_origin, signing_key=key,
                                now=ledger.clock())  # fmt: skip
    doc = {"rows": [to_jsonable(r) for r in register(ledger).values()]}
    rows = report_rows(doc)
    return rows, prove_rows(reader, cp, note, rows), key.public_key()


def test_a_row_must_rest_on_its_requests_newest_entries_and_be_listed_once(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: with the ledger at hand (`--events`), a register row resting
    on a request's first entries only (its later release and denial left out, the proof
    computed again) passed; so did a register listing a request twice."""
    from ledger.integrity import MerkleProofFailed, open_chain
    from ledger.report_proofs import verify_report_proofs

    _ordered(ledger, now)
    rows, proofs, public = _proved_register(ledger)
    assert ledger.datadir is not None
    reader = open_chain(ledger.datadir)
    store = reader.node_store()
    try:

        def held(subject: Any, size: int) -> int:
            return len(reader.aggregate_entries(store, subject, size))

        check, _cp, _note = verify_report_proofs(rows, proofs, public, entries_of=held)
        assert check.rows == len(rows)
        with pytest.raises(MerkleProofFailed, match="its newer events are left out"):
            verify_report_proofs(rows, proofs, public, entries_of=lambda s, n: held(s, n) + 1)
    finally:
        store.close()
    twice = [rows[0], rows[0]]
    listed = {**proofs, "rows": [proofs["rows"][0], proofs["rows"][0]]}
    with pytest.raises(MerkleProofFailed, match="is listed twice"):
        verify_report_proofs(twice, listed, public)


def test_a_row_leaving_out_a_column_its_events_fill_is_not_what_they_say(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    """Red team, session 22: deleting a column (the court order, its scope, counsel's
    review) passed where setting it to null failed. A column left out that its events
    leave empty (a report of an earlier version without it) is no lie."""
    _ref, row, events = _ordered(ledger, now)
    left = {k: v for k, v in row.items() if k != "court_order"}
    said = row_problem("register", left, events)
    assert said is not None and said.startswith("court_order ") and "left out" in said
    assert row["hold_id"] is None
    assert row_problem("register", {k: v for k, v in row.items() if k != "hold_id"}, events) is None


def test_a_row_no_report_writes_is_a_verdict_not_a_crash(
    ledger: Ledger,  # noqa: F811
    now: datetime,
) -> None:
    from ledger.report_proofs import row_check

    _ref, row, events = _ordered(ledger, now)
    said = row_check("register", {**row, "released_fields": ["name", 1]}, events)
    assert said is not None and said.startswith("the row cannot be read (TypeError")
