"""A history checks only its subject's bucket of the subject tables' seals (R29,
``projections.history.SUBJECTS_BY_PREFIX``), and still sees every row changed with plain
SQL that could change its answer.

On the compliance report's scenario, on SQLite and PostgreSQL: a row of the subject
deleted, moved to another subject, or added, and a row of another subject in the same
bucket changed, are each refused (``ReadModelTampered``); a row in another bucket is
left to the histories that read it (and to the whole check, which still finds it). The
buckets a page of events keeps are those a scan finds, the SQL predicate of a bucket
selects exactly the rows whose key it is (odd texts included), and a seal from before
these buckets gains them when its rows match.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections import base
from projections.history import (
    SUBJECTS_BY_PREFIX,
    SubjectIndexProjection,
    aggregate_subjects,
    classify,
    read_history,
    subject_index,
)
from projections.registry import open_views
from projections.seal import (
    DayRange,
    ReadModelTampered,
    RowHasher,
    Seal,
    _store_seal,
    check_projections,
    read_seal,
    table_digest,
    text_prefix,
)
from tests.cli.db_helpers import execute
from tests.conftest import NOW, copy_of_data_dir, database_for, new_data_dir
from tests.identity import fast_kdf_while_building, open_test_ledger
from tests.integration.test_compliance_report import REPORT_NOW, D, Scenario, build_scenario

TABLES = (subject_index, aggregate_subjects)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scenario_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Scenario]]:
    """The compliance report's scenario, its read models caught up and sealed, built once
    per database and module; each test gets a copy (``scenario``)."""
    where = tmp_path_factory.mktemp("history-buckets")
    with database_for(request.param, where) as url:
        with fast_kdf_while_building():
            data_dir = new_data_dir(where / "data", url)
            ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
            sc = build_scenario(ledger)
            ledger.close()
            _history(data_dir, "lobby-1")  # caught up and sealed
        yield data_dir, sc


@pytest.fixture
def scenario(
    scenario_once: tuple[Path, Scenario], tmp_path: Path
) -> Iterator[tuple[Path, Scenario]]:
    source, sc = scenario_once
    with copy_of_data_dir(source, tmp_path / "data") as data_dir:
        yield data_dir, sc


@pytest.fixture
def opened(scenario: tuple[Path, Scenario]) -> Iterator[Ledger]:
    ledger = open_test_ledger(DataDir.open(scenario[0]), clock=ManualClock(REPORT_NOW))
    yield ledger
    ledger.close()


def _history(data_dir: Path, subject: str) -> list[int]:
    """The notification ids of ``subject``'s history, as legal review reads it, but for
    the reads of it (each read adds one: R27)."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        entries = read_history(ledger, subject, actor=D)[1]
        return [e.notification_id for e in entries if e.kind != "ConfidentialRecordRead"]
    finally:
        ledger.close()


def _refused(data_dir: Path, subject: str, table: str) -> None:
    with pytest.raises(ReadModelTampered) as e:
        _history(data_dir, subject)
    assert table in str(e.value)


def _seal(ledger: Ledger) -> Seal:
    views = open_views(ledger)
    try:
        with views.engine.connect() as conn:
            return read_seal(
                conn, views.seal_key(), SubjectIndexProjection(), views.positions()["subjects"]
            )
    finally:
        views.close()


def _scans(ledger: Ledger) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    views = open_views(ledger)
    try:
        with views.engine.connect() as conn:
            return {
                t.name: table_digest(conn, RowHasher(views.seal_key(), t), buckets=True).buckets
                for t in TABLES
            }
    finally:
        views.close()


def _other_bucket(key: str) -> str:
    """A segment's key in another bucket than ``key``'s."""
    first = "0" if key[len("segment:")] != "0" else "1"
    return f"segment:{first}{key[len('segment:') + 1 :]}"


# The held segment's rows: its aggregate (the capture, found in the log by it) and the
# index row of the hold that names it.
FORGERIES = {
    "aggregate deleted": "DELETE FROM proj_subject_aggregates WHERE subject = '{key}'",
    "index row deleted": "DELETE FROM proj_subject_index WHERE subject = '{key}'",
    # moved to a subject of another bucket: out of this history's bucket
    "aggregate moved away": "UPDATE proj_subject_aggregates SET subject = '{away}' "
    "WHERE subject = '{key}'",
    "index row moved away": "UPDATE proj_subject_index SET subject = '{away}' "
    "WHERE subject = '{key}'",
    # an event made to look as if it named the segment (the first event of the log)
    "index row added": "INSERT INTO proj_subject_index (subject, notification_id) "
    "VALUES ('{key}', 1)",
    # another subject of the same bucket: the history would not show it, but its bucket
    # no longer matches, and a bucket is checked whole
    "a neighbour added": "INSERT INTO proj_subject_index (subject, notification_id) "
    "VALUES ('{neighbour}', 1)",
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_history_refuses_a_row_changed_in_its_bucket(
    scenario: tuple[Path, Scenario], forgery: str
) -> None:
    data_dir, sc = scenario
    key = classify(sc.held)
    assert len(_history(data_dir, sc.held)) == 3  # captured, the hold placed and applied
    neighbour = text_prefix(key, 2) + "ffffffffff"
    assert neighbour != key and text_prefix(neighbour, 2) == text_prefix(key, 2)
    changed = execute(
        data_dir, FORGERIES[forgery].format(key=key, away=_other_bucket(key), neighbour=neighbour)
    )
    assert changed == 1
    table = "proj_subject_aggregates" if "aggregate" in forgery else "proj_subject_index"
    _refused(data_dir, sc.held, table)


def test_a_row_in_another_bucket_is_left_to_the_histories_that_read_it(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    data_dir, sc = scenario
    held = _history(data_dir, sc.held)
    camera = "camera:lobby-1"  # every capture names it: a row of the index each
    assert text_prefix(camera, 2) != text_prefix(classify(sc.held), 2)
    assert _history(data_dir, "lobby-1")
    first = f"(SELECT min(notification_id) FROM proj_subject_index WHERE subject = '{camera}')"
    forged = f"DELETE FROM proj_subject_index WHERE subject = '{camera}' AND notification_id = "
    assert execute(data_dir, forged + first) == 1
    assert _history(data_dir, sc.held) == held  # its bucket is not the camera's
    _refused(data_dir, "lobby-1", "proj_subject_index")  # the camera's is checked
    views = open_views(opened)
    try:  # and the whole check (verify, reports) finds it as before
        assert [f.table for f in check_projections(views, [SubjectIndexProjection()])] == [
            "proj_subject_index"
        ]
    finally:
        views.close()


def test_the_subject_buckets_each_page_of_events_keeps_are_those_a_scan_finds(
    opened: Ledger,
) -> None:
    seal = _seal(opened)
    scans = _scans(opened)
    for t in TABLES:
        assert seal.buckets[t.name] == scans[t.name]
        assert set(scans[t.name][SUBJECTS_BY_PREFIX.name]) >= {"camera:lo"}
        rows = sum(n for n, _d in scans[t.name][SUBJECTS_BY_PREFIX.name].values())
        assert rows == seal.tables[t.name][0]
    views = open_views(opened)
    try:
        views.rebuild()  # and as a rebuild seals them
    finally:
        views.close()
    assert _seal(opened).buckets == seal.buckets


# Texts a subject column could hold (all but the first two only by someone's SQL): short,
# long, without a colon, with a second colon, characters beyond ASCII, LIKE's wildcards.
ODD_SUBJECTS = (
    "segment:3fa0c1d2e4b5", "segment:3f", "segment:3", "segment:", "segment:3f%", "segment:3_",
    "camera:é", "camera:éé-1", "camera:a:b", "camera:a", "Camera:lobby", "nocolon", ":x", ":",
    "camera:lo ", " camera:lo", "camera:lobby-1",
)  # fmt: skip
# SQLite's TEXT can hold a NUL (PostgreSQL's cannot), where its ``substr`` of TEXT stops
# (red team, session 26): the bucket's predicate compares bytes there.
NUL_SUBJECTS = ("camera:a\x00bc", "camera:\x00", "segment:3\x00f", "camera:a\x00")


def test_a_buckets_predicate_selects_exactly_the_rows_of_its_key(
    scenario: tuple[Path, Scenario], opened: Ledger
) -> None:
    """For every key: the rows ``DayRange.where`` selects in the database are exactly
    those whose key (``text_prefix``, computed in Python) it is, so a checked read of
    one bucket reads every row sealed in it and no other."""
    views = open_views(opened)
    try:
        with views.engine.begin() as conn:  # as someone's SQL would
            texts = ODD_SUBJECTS + (NUL_SUBJECTS if conn.dialect.name == "sqlite" else ())
            odd = [{"subject": s, "notification_id": 900000 + i} for i, s in enumerate(texts)]
            conn.execute(insert(subject_index), odd)
        with views.engine.connect() as conn:
            subjects = list(conn.execute(select(subject_index.c.subject)).scalars())
            keys = {text_prefix(s, 2) for s in subjects} - {"?"}
            assert {"segment:3f", "segment:3", "segment:", "camera:é", "camera:éé"} <= keys
            for key in keys:
                where = DayRange(SUBJECTS_BY_PREFIX, prefix=key).where(
                    subject_index, conn.dialect.name
                )
                q = select(subject_index.c.subject).where(where)
                got = sorted(conn.execute(q).scalars())
                assert got == sorted(s for s in subjects if text_prefix(s, 2) == key), key
            # the texts without a colon are in no range a history reads
            assert [s for s in subjects if text_prefix(s, 2) == "?"] == ["nocolon"]
    finally:
        views.close()


def test_a_subject_seal_from_before_these_buckets_gains_them_when_its_rows_match(
    scenario: tuple[Path, Scenario], opened: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, sc = scenario
    before = _history(data_dir, sc.held)
    old = _seal(opened)
    views = open_views(opened)
    try:  # as a ledger sealed before session 26 has it: the same rows, no buckets
        with views.engine.begin() as conn:
            _store_seal(conn, views.seal_key(), Seal(old.projection, old.position, old.tables))
    finally:
        views.close()
    assert _seal(opened).buckets == {}
    assert _history(data_dir, sc.held) == before  # checked whole meanwhile
    monkeypatch.setattr(base, "_BUCKETED", set())  # a new process opens it
    assert _history(data_dir, sc.held) == before
    # gained from a scan (the reads since added rows: R27)
    assert _seal(opened).buckets == _scans(opened) != {}


def test_an_event_deleted_from_the_log_is_refused_never_another_shown(
    scenario: tuple[Path, Scenario],
) -> None:
    """The history reads its events from the log by number, a chunk at a time. An event
    the (checked) read models name but the log lacks was deleted from the ledger: the
    history exits 3 (``LedgerTampered``). (Before session 26 it read "the first event at
    or after N" and showed the next event in its place.)"""
    from ledger.integrity import LedgerTampered

    data_dir, sc = scenario
    held = _history(data_dir, sc.held)
    hold_placed = held[1]  # indexed under the segment: the hold names it
    assert execute(data_dir, f"DELETE FROM ledger_events WHERE id = {hold_placed}") == 1
    with pytest.raises(LedgerTampered, match=f"no event {hold_placed}"):
        _history(data_dir, sc.held)


def test_buckets_an_older_version_left_behind_are_refused_until_a_rebuild(
    scenario: tuple[Path, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version from before these buckets, run on the ledger after the upgrade, keeps the
    seal's totals but not the buckets it does not know (``write_seal``): a history then
    refuses (exit 3, nothing shown) rather than trust them, and a rebuild makes them
    again (README, "after an upgrade")."""
    data_dir, sc = scenario
    before = _history(data_dir, sc.held)  # recorded (R27): a row under the segment
    with monkeypatch.context() as older:  # the tables as the older version declares them
        for t in TABLES:
            older.setitem(t.info, "seal_buckets", ())
        older.setattr(base, "_BUCKETED", set())
        ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
        try:  # any command's catch-up: it indexes the read above, in the totals only
            open_views(ledger).close()
        finally:
            ledger.close()
    monkeypatch.setattr(base, "_BUCKETED", set())
    _refused(data_dir, sc.held, "proj_subject_index")
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(REPORT_NOW))
    try:
        views = open_views(ledger)
        try:
            views.rebuild()
        finally:
            views.close()
    finally:
        ledger.close()
    assert _history(data_dir, sc.held) == before
