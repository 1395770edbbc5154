"""History for legal review from the subject index, on SQLite and PostgreSQL: a subject's
own events and those of other records that name it, in ledger order with chain positions;
a rebuilt index equals the one kept incrementally."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections.history import classify, subject_history, subject_index
from projections.registry import open_views
from tests.conftest import NOW
from tests.identity import open_test_ledger
from tests.integration.test_compliance_report import D, S, build_scenario


@pytest.fixture
def ledger(data_dir: Path) -> Ledger:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    yield ledger  # type: ignore[misc]
    ledger.close()


def history(ledger: Ledger, subject: str) -> list:  # type: ignore[type-arg]
    views = open_views(ledger)
    try:
        with views.connect() as conn:
            return subject_history(ledger, conn, classify(subject))
    finally:
        views.close()


def test_a_segment_history_includes_the_hold_that_names_it(ledger: Ledger) -> None:
    sc = build_scenario(ledger)
    entries = history(ledger, sc.held)
    assert [e.kind for e in entries] == ["FootageCaptured", "HoldPlaced", "HoldApplied"]
    assert [e.actor for e in entries] == [S, D, D]
    assert entries[0].occurred_at is not None  # the claimed time: the recording start
    ids = [e.notification_id for e in entries]
    assert ids == sorted(ids)
    reader = ledger.chain_reader()
    assert [e.position for e in entries] == [reader.entry(notification_id=i)[4] for i in ids]
    assert sc.hold_id in entries[1].summary and "CLAIM-7" in entries[1].summary


def test_a_request_and_its_patron_share_the_request_events(ledger: Ledger) -> None:
    sc = build_scenario(ledger)
    kinds = [e.kind for e in history(ledger, sc.emergency.lower())]
    assert kinds == [
        "RequestOpened", "RequestRoutedToDirector", "EmergencyRequestRecorded",
        "DisclosureDecided", "DisclosureReleased", "FollowUpOpened",
    ]  # fmt: skip
    opened = history(ledger, sc.emergency)[0]
    pseudonym = opened.summary.split("patron ")[1].split(";")[0]
    patron = [e.kind for e in history(ledger, pseudonym)]
    assert patron[0] == "PatronRecorded" and patron[1:] == kinds
    assert "Quentin" not in " ".join(e.summary for e in history(ledger, pseudonym))


def test_refused_attempts_and_cameras_have_histories(ledger: Ledger) -> None:
    sc = build_scenario(ledger)
    (refused,) = history(ledger, "restroom-1")
    assert refused.kind == "AccessDenied" and "CAMERA-PRIVACY-ZONE" in refused.summary
    lobby = [e.kind for e in history(ledger, "LOBBY-1")]
    assert lobby[0] == "CameraRegistered" and lobby.count("FootageCaptured") == 6
    assert "FootagePurged" in lobby
    foia = [e.kind for e in history(ledger, sc.foia)]
    assert "PreservationHoldLinked" in foia and "FoiaClockStarted" in foia
    assert history(ledger, "nothing-here") == []


def test_the_rebuilt_subject_index_equals_the_incremental_one(ledger: Ledger) -> None:
    build_scenario(ledger)
    views = open_views(ledger)
    try:
        with views.connect() as conn:
            before = sorted(conn.execute(select(subject_index)).all())
        views.rebuild()
        with views.connect() as conn:
            after = sorted(conn.execute(select(subject_index)).all())
    finally:
        views.close()
    assert before == after and len(before) > 30


def test_a_request_history_shows_who_read_it_and_who_was_refused(ledger: Ledger) -> None:
    from ledger.errors import NotPermitted
    from projections.history import read_history

    sc = build_scenario(ledger)
    ledger.read_request(sc.emergency, actor=D, detail="web")
    read_history(ledger, sc.emergency, actor=D)  # recorded under "request:R-..."
    with pytest.raises(NotPermitted):
        read_history(ledger, sc.emergency, actor=S)
    ledger.record_read("log", "log from 1", actor=D)  # names no subject

    entries = history(ledger, sc.emergency)
    reads = [e for e in entries if e.kind == "ConfidentialRecordRead"]
    assert [(e.actor, e.summary) for e in reads] == [
        (D, f"read the record of {sc.emergency} (web)"),
        (D, f"read the history of request:{sc.emergency}"),
    ]
    (refused,) = [e for e in entries if e.kind == "AccessDenied"]
    assert refused.actor == S and "READ-CONFIDENTIAL" in refused.summary
    assert [e.kind for e in history(ledger, "log from 1")] == []


def test_a_request_history_shows_the_registers_that_listed_it(ledger: Ledger) -> None:
    from datetime import timedelta

    sc = build_scenario(ledger)
    ledger.record_register_issued(
        since=NOW - timedelta(days=30),
        until=None,
        as_of=None,
        output_sha256="ab" * 32,
        checkpoint_size=1,
        checkpoint_root="00" * 32,
        refs=[sc.emergency, sc.foia],
        actor=D,
    )
    for ref in (sc.emergency, sc.foia):
        (issued,) = [e for e in history(ledger, ref) if e.kind == "DisclosureRegisterIssued"]
        assert issued.actor == D
        assert issued.summary.startswith("disclosure register of 2 request(s) handed out")
        assert "sha256:abababababababab" in issued.summary
