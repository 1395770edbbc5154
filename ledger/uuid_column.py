"""The events table's ``originator_id`` column type, without importing SQLAlchemy-Utils.

eventsourcing-sqlalchemy's ``models`` module takes ONE name from SQLAlchemy-Utils,
``sqlalchemy_utils.types.uuid.UUIDType``, but Python runs the package's ``__init__`` (and
``types/__init__``) first, which import every type it offers and the PostgreSQL, MSSQL
and other dialects: about a sixth of a one-event act's instructions (issue 16, speed a
person feels), for a column type whose whole behaviour is the short class below.

``UUIDType`` here is SQLAlchemy-Utils 0.43's class as that module defines it (the same
storage on every database: PostgreSQL's native ``UUID``, ``BINARY(16)`` on SQLite; the
same bind and result conversions), except that it imports a dialect only when a
database of that dialect is used. ``library_models()`` imports eventsourcing-sqlalchemy's
models with this class standing in for that one module during the import, and only
then: afterwards ``import sqlalchemy_utils`` gives the real package, as before.
tests/integration/test_uuid_column.py checks it against SQLAlchemy-Utils' own class
(DDL, bind and result values, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sys
import types
import uuid
from typing import Any

from sqlalchemy import types as sa_types
from sqlalchemy import util

LIBRARY_MODULE = "sqlalchemy_utils.types.uuid"


class UUIDType(sa_types.TypeDecorator):  # type: ignore[type-arg]
    """Stores a UUID natively where the database can (PostgreSQL), else as
    ``BINARY(16)`` (or ``CHAR(32)`` with ``binary=False``)."""

    impl = sa_types.BINARY(16)
    python_type = uuid.UUID
    cache_ok = True

    def __init__(self, binary: bool = True, native: bool = True) -> None:
        self.binary = binary
        self.native = native

    def __repr__(self) -> str:
        return util.generic_repr(self)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if self.native and dialect.name in ("postgresql", "cockroachdb"):
            from sqlalchemy.dialects import postgresql

            return dialect.type_descriptor(postgresql.UUID())
        if dialect.name == "mssql" and self.native:
            from sqlalchemy.dialects import mssql

            return dialect.type_descriptor(mssql.UNIQUEIDENTIFIER())
        kind = self.impl if self.binary else sa_types.CHAR(32)
        return dialect.type_descriptor(kind)

    @staticmethod
    def _coerce(value: Any) -> Any:
        if value and not isinstance(value, uuid.UUID):
            try:
                value = uuid.UUID(value)
            except (TypeError, ValueError):
                value = uuid.UUID(bytes=value)
        return value

    def coercion_listener(self, target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
        return self._coerce(value)

    def process_literal_param(self, value: Any, dialect: Any) -> Any:
        return value

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, uuid.UUID):
            value = self._coerce(value)
        if self.native and dialect.name in ("postgresql", "mssql", "cockroachdb"):
            return str(value)
        return value.bytes if self.binary else value.hex

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return value
        if self.native and dialect.name in ("postgresql", "mssql", "cockroachdb"):
            if isinstance(value, uuid.UUID):
                return value
            return uuid.UUID(value)
        return uuid.UUID(bytes=value) if self.binary else uuid.UUID(value)


def library_models() -> types.ModuleType:
    """``eventsourcing_sqlalchemy.models``, imported with :class:`UUIDType` standing in
    for SQLAlchemy-Utils' module (unless SQLAlchemy-Utils is imported already: then its
    own class is used). The stand-in is in ``sys.modules`` for that one import only."""
    name = "eventsourcing_sqlalchemy.models"
    if name in sys.modules:
        return sys.modules[name]
    if "sqlalchemy_utils" in sys.modules:
        import eventsourcing_sqlalchemy.models as models

        return models
    stand_in = types.ModuleType(LIBRARY_MODULE)
    stand_in.UUIDType = UUIDType  # type: ignore[attr-defined]
    sys.modules[LIBRARY_MODULE] = stand_in
    try:
        import eventsourcing_sqlalchemy.models as models
    finally:
        if sys.modules.get(LIBRARY_MODULE) is stand_in:
            del sys.modules[LIBRARY_MODULE]
    return models
