"""The eventsourcing library's own recorder contract, run against our chained recorders:
the SQLAlchemy one (``ledger.store``) and the DB-API one a command line act uses
(``ledger.dbapi_store``), whose chain the SQLAlchemy one's reader must verify."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from functools import partial
from itertools import product
from pathlib import Path
from unittest import TestCase
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder

from ledger.chain import GENESIS
from ledger.chain_reader import ChainReader
from ledger.dbapi_store import DbapiRecorder
from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from tests.conftest import fresh_postgres_database


class _ChainedContract(ApplicationRecorderTestCase[ChainedApplicationRecorder]):
    url: str

    def create_recorder(self, table_name: str = "stored_events") -> ChainedApplicationRecorder:
        recorder = ChainedApplicationRecorder(self.datastore, events_table_name=table_name.lower())
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder

    def setUp(self) -> None:
        super().setUp()
        self.stack = ExitStack()
        self.recorders: list[ChainedApplicationRecorder] = []
        self.url = self.make_url()
        self.datastore = ChainedDatastore(url=self.url)

    def tearDown(self) -> None:
        # Whatever the contract wrote, the chain over it must verify, contiguous from 1.
        for recorder in self.recorders:
            reader = ChainReader(recorder)
            result = reader.verify()
            assert result.ok, result.damage
            assert result.count == reader.count_rows()
            assert (result.count == 0) == (result.head_hash == GENESIS)
        assert self.datastore.engine is not None
        self.datastore.engine.dispose()
        self.stack.close()
        super().tearDown()

    def make_url(self) -> str:
        raise NotImplementedError


class TestChainedRecorderOnSQLite(_ChainedContract):
    def make_url(self) -> str:
        tmp = self.stack.enter_context(tempfile.TemporaryDirectory())
        return f"sqlite:///{Path(tmp) / 'contract.sqlite'}?timeout=30"

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        # The library's SQLite datastore serialises writers in-process; ours must too.
        super().test_concurrent_no_conflicts(initial_position)


class TestChainedRecorderOnPostgres(_ChainedContract):
    def make_url(self) -> str:
        return self.stack.enter_context(fresh_postgres_database())


class _DbapiRecorders:
    """The DB-API recorder on a table the SQLAlchemy recorder created (the command line
    takes the DB-API path only where the table exists); the chain it writes is verified
    by the SQLAlchemy recorder's reader, as ``custodes verify`` reads it."""

    url: str
    stack: ExitStack

    def create_recorder(self, table_name: str = "stored_events") -> DbapiRecorder:
        table = table_name.lower()
        full = ChainedApplicationRecorder(self.datastore, events_table_name=table)
        full.create_table()
        self.datastore.init_sqlite_wal_mode()  # as the SQLAlchemy path leaves a ledger
        self.full.append(full)
        recorder = DbapiRecorder.open(self.url, table=table, any_thread=True)
        self.stack.callback(recorder.close)
        return recorder

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.stack = ExitStack()
        self.full: list[ChainedApplicationRecorder] = []
        self.url = self.make_url()
        self.datastore = ChainedDatastore(url=self.url)

    def tearDown(self) -> None:
        for recorder in self.full:
            reader = ChainReader(recorder)
            result = reader.verify()
            assert result.ok, result.damage
            assert result.count == reader.count_rows()
        self.stack.close()
        assert self.datastore.engine is not None
        self.datastore.engine.dispose()
        super().tearDown()  # type: ignore[misc]

    def make_url(self) -> str:
        raise NotImplementedError


class _OnSQLite:
    stack: ExitStack

    def make_url(self) -> str:
        tmp = self.stack.enter_context(tempfile.TemporaryDirectory())
        return f"sqlite:///{Path(tmp) / 'contract.sqlite'}?timeout=30"


class _OnPostgres:
    stack: ExitStack

    def make_url(self) -> str:
        return self.stack.enter_context(fresh_postgres_database())


class TestDbapiRecorderOnSQLite(
    _OnSQLite, _DbapiRecorders, ApplicationRecorderTestCase[DbapiRecorder]
):
    pass


class TestDbapiRecorderOnPostgres(
    _OnPostgres, _DbapiRecorders, ApplicationRecorderTestCase[DbapiRecorder]
):
    pass


class _SameReads(_DbapiRecorders):
    """Every read the application makes gives the DB-API recorder's answer and the
    SQLAlchemy recorder's alike, on rows the DB-API recorder wrote (the library's
    application-recorder contract does not read aggregates back in every way). Both
    recorders read an aggregate's events by a plain SELECT (``ChainSQL``), so each
    answer is also held against the library's own ORM query."""

    def test_reads_equal_the_sqlalchemy_recorders(self) -> None:
        recorder = self.create_recorder()
        full = self.full[-1]
        ids = [uuid4() for _ in range(3)]
        for version in range(1, 6):
            recorder.insert_events(
                [
                    StoredEvent(oid, version, f"topic{(n + version) % 3}", f"{n}{version}".encode())
                    for n, oid in enumerate(ids)
                ]
            )
        assert recorder.max_notification_id() == full.max_notification_id() == 15
        bounds = [None, 0, 2, 5]
        library = partial(SQLAlchemyApplicationRecorder.select_events, full)
        library_log = partial(SQLAlchemyApplicationRecorder.select_notifications, full)
        for oid, gt, lte, desc, limit in product(ids[:2], bounds, bounds, (False, True), bounds):
            mine = recorder.select_events(oid, gt=gt, lte=lte, desc=desc, limit=limit)
            plain = full.select_events(oid, gt=gt, lte=lte, desc=desc, limit=limit)
            orm = library(oid, gt=gt, lte=lte, desc=desc, limit=limit)
            assert mine == plain == orm, (gt, lte, desc, limit)
            assert len(orm) == len(range(5)[gt or 0 : lte][:limit]), (gt, lte, limit)
        assert recorder.select_events(str(ids[0])) == full.select_events(str(ids[0]))
        assert full.select_events(str(ids[0])) == library(ids[0])
        # PostgreSQL reads in autocommit; the connection goes back to the pool without it.
        assert self.datastore.engine is not None
        proxy = self.datastore.engine.raw_connection()
        assert getattr(proxy.driver_connection, "autocommit", False) is False
        proxy.close()
        assert full.select_events(uuid4()) == library(uuid4()) == []
        # Inside a transaction the caller opened, the library's query on its connection:
        # it sees what that transaction wrote and has not committed.
        with self.datastore.transaction(commit=False) as session:
            full._insert_stored_events(session, [StoredEvent(ids[2], 6, "topic9", b"late")])
            inside = full.select_events(ids[2], gt=5)
            assert [(e.originator_version, e.state) for e in inside] == [(6, b"late")]
            assert [n.id for n in full.select_notifications(16, 10)] == [16]
            session.rollback()
        assert full.select_events(ids[2], gt=5) == []
        assert full.select_notifications(16, 10) == []
        topics: list[list[str]] = [[], ["topic1"], ["topic0", "topic2"]]
        for start, stop, inclusive, chosen in product(
            [None, 1, 4], [None, 9], (True, False), topics
        ):
            for limit in (1, 7, 100):
                mine_n = recorder.select_notifications(
                    start, limit, stop, chosen, inclusive_of_start=inclusive
                )
                plain_n = full.select_notifications(
                    start, limit, stop, chosen, inclusive_of_start=inclusive
                )
                orm_n = library_log(start, limit, stop, chosen, inclusive_of_start=inclusive)
                assert mine_n == plain_n == orm_n, (start, stop, inclusive, chosen, limit)
                assert orm_n and all(type(n.originator_id) is UUID for n in plain_n)


class TestDbapiReadsOnSQLite(_OnSQLite, _SameReads, TestCase):
    pass


class TestDbapiReadsOnPostgres(_OnPostgres, _SameReads, TestCase):
    pass


del _ChainedContract
