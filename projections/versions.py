"""Row versions of the read models, so "as of log position P" is a query (issue 18).

Every row of a *versioned* projection's table carries ``asof_from``: the notification id
of the event that last wrote it (its content holds from there). Beside the table, its
version table ``<table>_asof`` keeps the contents it held before: the same columns
(``asof_from`` included) plus ``asof_to``, the event that replaced or deleted that
content (``asof_from`` included, ``asof_to`` excluded). The catch-up writes them in the
same transaction (``projections.base.PageWriter``): before an event first changes or
deletes a row written by an earlier event, the row is copied into its version table,
closed at that event; then the change sets the row's ``asof_from`` to the event. A new
row needs no version: most rows are written once, so most keep none (at 100,000 events
67,565 version rows against 256,185 when every row's current content was copied too).
A row written twice by one event gets one version, so the versions depend only on the
events, never on how they were paged: a rebuild equals the incremental tables. Only
INSERT and UPDATE, never DELETE of a version (the application role may not delete
read-model rows, README).

The state as of P of table T is T's rows with ``asof_from <= P`` and T_asof's with
``asof_from <= P < asof_to`` (``as_of_select``). The version tables are read models like
the others: registered in the projection's own metadata, so sealed (R29), rebuilt,
dropped and compared by ``verify --deep`` with no code of their own.

Content: the same values as the read models hold, and log positions. Nothing more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    CompoundSelect,
    Index,
    MetaData,
    Table,
    column,
    select,
    union_all,
)
from sqlalchemy import table as sql_table

SUFFIX = "_asof"
FROM = "asof_from"
TO = "asof_to"

# table name -> its version table
_VERSIONS: dict[str, Table] = {}


def add_versions(metadata: MetaData) -> None:
    """Give every table of ``metadata`` its ``asof_from`` column and its version table
    (once)."""
    for table in list(metadata.sorted_tables):
        if table.name.endswith(SUFFIX) or table.name in _VERSIONS:
            continue
        if FROM in table.c:
            raise ValueError(f"read model {table.name}: {FROM} is the versions' column")
        table.append_column(Column(FROM, BigInteger, nullable=False))
        _VERSIONS[table.name] = _version_table(metadata, table)


def version_of(table: Table | str) -> Table | None:
    """The version table of ``table`` (None: not versioned)."""
    return _VERSIONS.get(table if isinstance(table, str) else table.name)


def is_version_table(name: str) -> bool:
    return name.endswith(SUFFIX) and any(v.name == name for v in _VERSIONS.values())


def _version_table(metadata: MetaData, table: Table) -> Table:
    if len(table.primary_key.columns) == 0:
        raise ValueError(f"read model {table.name}: a versioned table needs a primary key")
    # The table's columns in order (``asof_from`` last, part of the key here: a row's
    # versions differ by it), then ``asof_to``: a version's stored form is its row's
    # followed by the position that closed it (``Sealer.copied``).
    columns = [
        Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key or c.name == FROM)
        for c in table.columns
    ]
    name = table.name + SUFFIX
    versions = Table(name, metadata, *columns, Column(TO, BigInteger, nullable=False))
    for i, index in enumerate(sorted(table.indexes, key=lambda x: str(x.name))):
        Index(f"ix_{name}_{i}", *(versions.c[c.name] for c in index.columns))
    Index(f"ix_{name}_from", versions.c[FROM])
    return versions


def as_of_select(table: Table, position: int, schema: str | None = None) -> CompoundSelect:
    """``table``'s rows as they were after the event at ``position`` (its columns, in
    order): its rows written at or before it, and the versions replaced after it.
    ``schema``: the table's, named (a temporary view under the table's own name reads
    the table through it: SQLite looks a view's names up when it is read, ``main``)."""
    versions = _VERSIONS[table.name]
    rows = sql_table(table.name, *(column(c.name) for c in table.columns), schema=schema)
    return union_all(
        select(*rows.c).where(rows.c[FROM] <= position),
        select(*(versions.c[c.name] for c in table.columns)).where(
            versions.c[FROM] <= position, versions.c[TO] > position
        ),
    )


def content(table: Table) -> list[Column[Any]]:
    """``table``'s columns but ``asof_from``: what its rows say, for ``select(*...)``."""
    return [c for c in table.columns if c.name != FROM]
