"""``ledger.uuid_column.UUIDType`` stands in for SQLAlchemy-Utils' ``UUIDType`` while
eventsourcing-sqlalchemy's models are imported (so no command pays SQLAlchemy-Utils'
import): it must store and convert exactly as that class does, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy_utils.types.uuid import UUIDType as LibraryUUIDType

from ledger.store import ChainedApplicationRecorder, ChainedDatastore
from ledger.uuid_column import UUIDType

DIALECTS = [sqlite.dialect(), postgresql.dialect(), postgresql.psycopg.dialect()]  # type: ignore[attr-defined]
VALUE = uuid.UUID("0f3c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a00")


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: f"{d.name}+{d.driver}")
@pytest.mark.parametrize("options", [{}, {"binary": False}, {"native": False}])
def test_the_stand_in_converts_as_sqlalchemy_utils_does(
    dialect: Any, options: dict[str, bool]
) -> None:
    ours, theirs = UUIDType(**options), LibraryUUIDType(**options)
    assert repr(ours) == repr(theirs).replace("LibraryUUIDType", "UUIDType")
    assert type(ours.load_dialect_impl(dialect)) is type(theirs.load_dialect_impl(dialect))
    assert ours.load_dialect_impl(dialect).compile(dialect) == theirs.load_dialect_impl(
        dialect
    ).compile(dialect)
    for given in (VALUE, str(VALUE), VALUE.hex, VALUE.bytes, None):
        assert ours.process_bind_param(given, dialect) == theirs.process_bind_param(given, dialect)
        assert ours._coerce(given) == theirs._coerce(given)
    stored = theirs.process_bind_param(VALUE, dialect)
    assert ours.process_result_value(stored, dialect) == VALUE
    assert ours.process_result_value(stored, dialect) == theirs.process_result_value(
        stored, dialect
    )
    assert ours.process_result_value(None, dialect) is None


def test_the_events_table_is_the_one_sqlalchemy_utils_type_defines(tmp_path: Path) -> None:
    """The DDL of the ledger's events table with the stand-in and with SQLAlchemy-Utils'
    own class as its ``originator_id`` type, on both databases. (Which class a process
    uses depends on whether it imported SQLAlchemy-Utils first, as this test module does:
    tests/cli/test_act_imports_cli.py checks a command's own process.)"""
    datastore = ChainedDatastore(url=f"sqlite:///{tmp_path / 'ddl.sqlite'}")
    recorder = ChainedApplicationRecorder(datastore, events_table_name="ddl_events")
    tables = []
    for kind in (UUIDType, LibraryUUIDType):
        table = recorder.events_record_cls.__table__.to_metadata(MetaData())
        table.c.originator_id.type = kind()
        tables.append(table)
    ours, theirs = tables
    assert [c.name for c in ours.c] == [c.name for c in recorder.events_record_cls.__table__.c]
    assert len(ours.indexes) == 1  # the aggregate's (UNIQUE position is in the table)
    for dialect in DIALECTS:
        assert str(CreateTable(ours).compile(dialect=dialect)) == str(
            CreateTable(theirs).compile(dialect=dialect)
        )
        assert _indexes(ours, dialect) == _indexes(theirs, dialect)
    assert datastore.engine is not None
    datastore.engine.dispose()


def _indexes(table: Table, dialect: Any) -> list[str]:
    return sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes)


def test_a_plain_table_compiles_alike() -> None:
    ours = Table("t", MetaData(), Column("u", UUIDType(), nullable=False))
    theirs = Table("t", MetaData(), Column("u", LibraryUUIDType(), nullable=False))
    for dialect in DIALECTS:
        assert str(CreateTable(ours).compile(dialect=dialect)) == str(
            CreateTable(theirs).compile(dialect=dialect)
        )
