"""A refused attempt made under a name whose key was not unlocked reads "not signed in"
(red team, session 14: a record signed by the service identity, "Dana Director asked to
view footage to watch Sam Staff's breaks", read in the board's report as the Director's
own refused attempt; only ``log --json`` said ``authenticated: false``).

On SQLite and PostgreSQL: the report's refusals say whether the name was signed in (HTML,
JSON), ``verify-report --events`` checks it, and read models made before the column
existed are "made by an earlier version" until a rebuild.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.app import open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from ledger.report_proofs import row_check
from projections import base
from projections.base import ReadModelsOutdated
from projections.compliance import compile_compliance_report
from projections.registry import all_projections, open_views
from projections.render_data import to_json
from projections.render_html import render_html
from tests.conftest import NOW
from tests.identity import passphrase
from tests.integration.footage_helpers import DIRECTOR, STAFF, footage_ledger


def _impersonation(data_dir: Path) -> None:
    """Sam, signed in as himself, names the Director for an act: refused, recorded with
    the Director's name, signed by the service (her key was not unlocked)."""
    footage_ledger(data_dir).close()
    sam = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(hours=1)))
    sam.authenticate(STAFF, passphrase(STAFF).encode())
    with pytest.raises(NotPermitted, match="^STAFF-AUTHENTICATED"):
        sam.register_camera(
            "c-2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
    open_views(sam).close()  # the read models made and caught up
    sam.close()


def test_a_refusal_under_a_name_not_signed_in_says_so(data_dir: Path) -> None:
    _impersonation(data_dir)
    ledger = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(hours=2)))
    ledger.authenticate(DIRECTOR, passphrase(DIRECTOR).encode())
    assert ledger.datadir is not None
    day = (NOW + timedelta(hours=1)).date()
    report, _ = compile_compliance_report(
        ledger, period_from=day - timedelta(days=1), period_to=day, actor=DIRECTOR,
        now=ledger.clock(), signing_key=ledger.datadir.signing_key(None),
    )  # fmt: skip
    (refused,) = [r for r in report.refusals if r.rule_id == "STAFF-AUTHENTICATED"]
    assert (refused.actor, refused.role, refused.signed_in) == (DIRECTOR, "director", False)
    assert "director (not signed in)" in render_html(report)
    (row,) = [
        r for r in json.loads(to_json(report))["refusals"] if r["rule_id"] == "STAFF-AUTHENTICATED"
    ]
    assert row["signed_in"] is False
    # verify-report --events: the row's word checked against the event's
    (event,) = [e for e in ledger.read_log(kinds=["AccessDenied"])]
    denied = ledger.mapper.to_domain_event(
        ledger.recorder.select_notifications(event.notification_id, 1)[0]
    )
    assert row_check("refusals", row, [denied]) is None
    assert "signed_in" in str(row_check("refusals", {**row, "signed_in": True}, [denied]))
    ledger.close()


def test_read_models_without_the_column_are_made_again_not_misread(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _impersonation(data_dir)
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:  # as an earlier version made it
        conn.execute(text("ALTER TABLE proj_refusals DROP COLUMN authenticated"))
    engine.dispose()
    monkeypatch.setattr(base, "_SCHEMA_SEEN", set())  # a new process opens it
    ledger = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(hours=2)))
    try:
        views = base.Views(ledger, all_projections())
        try:
            assert "proj_refusals" in views.outdated
            with pytest.raises(ReadModelsOutdated, match="proj_refusals"):
                views.connect()
            views.rebuild(restart=True)
        finally:
            views.close()
        open_views(ledger).close()
    finally:
        ledger.close()
