"""Row versions as PageWriter writes them (``projections.versions``, issue 18): a row
carries ``asof_from``, and only the contents an event replaced or deleted are copied
into the version table, closed at that event. The same events give the same tables
whether they come in one page or one page each (a rebuild's pages or the catch-up's),
every stored form the seal computed is the row read back (``Sealer.verify``), and the
table as of each position is the state after that event. Both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, create_engine, select

from projections import versions as ver
from projections.base import PageWriter, Projection, insert_row, update_row
from projections.seal import Sealer
from tests.conftest import database_for


class _Rows(Projection):
    name = "test_row_versions"
    metadata = MetaData()
    rows = Table(
        "test_versioned_rows",
        metadata,
        Column("key", String(8), primary_key=True),
        Column("value", Integer, nullable=False),
    )


rows = _Rows.rows
versions = ver.version_of(rows)
assert versions is not None

Op = Callable[[PageWriter], None]


def _insert(key: str, value: int) -> Op:
    return lambda w: insert_row(w, rows, key=key, value=value)


def _update(key: str, value: int) -> Op:
    return lambda w: update_row(w, rows, "key", key, value=value)


def _update_statement(key: str, value: int) -> Op:
    return lambda w: w.execute(rows.update().where(rows.c.key == key).values(value=value))


def _delete(key: str) -> Op:
    return lambda w: w.execute(rows.delete().where(rows.c.key == key))


# Event position -> what it writes; the state after each, for the as-of reads.
EVENTS: list[tuple[int, list[Op]]] = [
    (1, [_insert("a", 1), _insert("b", 1)]),
    (2, [_update("a", 2)]),
    (3, [_update("a", 3), _update("a", 33)]),  # twice by one event: one version
    (4, [_delete("a")]),
    (5, [_insert("a", 5), _update_statement("b", 5)]),
    (6, [_update("b", 6), _update("missing", 6)]),  # no such row: nothing to copy
]
STATES = {
    0: {},
    1: {"a": 1, "b": 1},
    2: {"a": 2, "b": 1},
    3: {"a": 33, "b": 1},
    4: {"b": 1},
    5: {"a": 5, "b": 5},
    6: {"a": 5, "b": 6},
}


def _write(conn: Connection, page: list[tuple[int, list[Op]]]) -> None:
    writer = PageWriter(conn, Sealer(b"k" * 32), versioned=True)
    for position, ops in page:
        writer.position = position
        for op in ops:
            op(writer)
    writer.stage()
    writer.flush()
    assert writer.sealer is not None
    writer.sealer.finish(conn)  # checks every computed stored form (Sealer.verify)


@pytest.mark.parametrize("paging", ["one page", "a page per event"])
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_only_replaced_contents_are_versions_and_every_position_reads_back(
    db: str, paging: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Sealer, "verify", True)
    monkeypatch.setattr(Sealer, "verified", {})
    with database_for(db, tmp_path) as url:
        engine = create_engine(url)
        try:
            _Rows.metadata.create_all(engine)
            pages = [EVENTS] if paging == "one page" else [[e] for e in EVENTS]
            for page in pages:
                with engine.begin() as conn:
                    _write(conn, page)
            with engine.connect() as conn:
                current = sorted(tuple(r) for r in conn.execute(select(rows)))
                kept = sorted(tuple(r) for r in conn.execute(select(versions)))
                as_of: dict[int, Any] = {
                    p: dict(tuple(r)[:2] for r in conn.execute(ver.as_of_select(rows, p)))
                    for p in STATES
                }
        finally:
            engine.dispose()
    # key, value, asof_from (then asof_to): a row's current content is not copied
    assert current == [("a", 5, 5), ("b", 6, 6)]
    assert kept == [("a", 1, 1, 2), ("a", 2, 2, 3), ("a", 33, 3, 4), ("b", 1, 1, 5), ("b", 5, 5, 6)]
    assert as_of == STATES
    assert Sealer.verified[versions.name] == 5  # every version's stored form computed
