"""Row versions of the read models, so "as of log position P" is a query (issue 18).

Every table of a *versioned* projection has a version table beside it, ``<table>_asof``:
the same columns, plus ``asof_from`` and ``asof_to``, the notification ids between which
that content was the row's (``asof_from`` included, ``asof_to`` excluded, NULL: still
current). The catch-up that writes a row writes its version in the same transaction
(``projections.base.PageWriter``): once per row and event that writes it, the row's open
version is closed at that event and the row's content after it opened from there (none
when the event deleted the row). A row written twice by one event gets one version, so
the versions depend only on the events, never on how they were paged: a rebuild equals
the incremental tables. Only INSERT and UPDATE, never DELETE (the application role may
not delete read-model rows, README).

The state as of P of table T is ``SELECT T's columns FROM T_asof WHERE asof_from <= P
AND (asof_to IS NULL OR asof_to > P)`` (``as_of_select``). The version tables are read
models like the others: registered in the projection's own metadata, so sealed (R29),
rebuilt, dropped and compared by ``verify --deep`` with no code of their own.

Content: the same values as the read models hold, and log positions. Nothing more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, MetaData, Select, Table, and_, or_, select

SUFFIX = "_asof"
FROM = "asof_from"
TO = "asof_to"

# table name -> its version table
_VERSIONS: dict[str, Table] = {}


def add_versions(metadata: MetaData) -> None:
    """Give every table of ``metadata`` its version table (once)."""
    for table in list(metadata.sorted_tables):
        if table.name.endswith(SUFFIX) or table.name in _VERSIONS:
            continue
        _VERSIONS[table.name] = _version_table(metadata, table)
        _TABLES[table.name] = table


# table name -> the table (of the versioned ones)
_TABLES: dict[str, Table] = {}


def table_named(name: str) -> Table:
    """A versioned table by its name."""
    return _TABLES[name]


def version_of(table: Table | str) -> Table | None:
    """The version table of ``table`` (None: not versioned)."""
    return _VERSIONS.get(table if isinstance(table, str) else table.name)


def is_version_table(name: str) -> bool:
    return name.endswith(SUFFIX) and any(v.name == name for v in _VERSIONS.values())


def _version_table(metadata: MetaData, table: Table) -> Table:
    if len(table.primary_key.columns) == 0:
        raise ValueError(f"read model {table.name}: a versioned table needs a primary key")
    columns = [
        Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key)
        for c in table.columns
    ]
    name = table.name + SUFFIX
    versions = Table(
        name,
        metadata,
        *columns,
        Column(FROM, BigInteger, primary_key=True),
        Column(TO, BigInteger, nullable=True),
    )
    for i, index in enumerate(sorted(table.indexes, key=lambda x: str(x.name))):
        Index(f"ix_{name}_{i}", *(versions.c[c.name] for c in index.columns))
    # The open version of a row, found by its key (closing it) and by position.
    Index(f"ix_{name}_from", versions.c[FROM])
    return versions


def valid_at(versions: Table, position: int) -> Any:
    return and_(
        versions.c[FROM] <= position, or_(versions.c[TO].is_(None), versions.c[TO] > position)
    )


def as_of_select(table: Table, position: int) -> Select[Any]:
    """``table``'s rows as they were after the event at ``position`` (its columns, in order)."""
    versions = _VERSIONS[table.name]
    return select(*(versions.c[c.name] for c in table.columns)).where(valid_at(versions, position))
