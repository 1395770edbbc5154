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
