"""The eventsourcing library's own recorder contract, run against our chained recorder."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.chain import GENESIS
from ledger.chain_reader import ChainReader
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


del _ChainedContract
