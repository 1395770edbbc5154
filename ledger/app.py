"""The ledger application: every use-case is a command method; queries return plain data.

``Ledger`` combines the feature areas into ONE eventsourcing application, so every
aggregate shares one events table and one hash chain (docs/FORMAT.md).
"""

from __future__ import annotations

import os

from eventsourcing.persistence import OperationalError, PersistenceError

from ledger.application import LedgerBase, LogEntry, StaffView, _first_line
from ledger.clock import Clock
from ledger.clock_commands import ClockCommands
from ledger.datadir import DataDir
from ledger.disclosure_commands import DisclosureCommands
from ledger.disclosure_queries import DisclosureQueries
from ledger.errors import StoreUnavailable
from ledger.export_commands import ExportCommands
from ledger.footage_commands import FootageCommands
from ledger.footage_queries import FootageQueries
from ledger.identity import IdentityCommands
from ledger.integrity import open_chain, verify_chain
from ledger.record_commands import DisclosureRecordCommands
from ledger.report_commands import ReportCommands
from ledger.retention_commands import RetentionCommands
from ledger.verification_commands import VerificationCommands

__all__ = ["Ledger", "LogEntry", "StaffView", "open_chain", "open_ledger", "verify_chain"]


class Ledger(
    ReportCommands,
    VerificationCommands,
    ExportCommands,
    DisclosureRecordCommands,
    DisclosureCommands,
    DisclosureQueries,
    FootageCommands,
    RetentionCommands,
    FootageQueries,
    IdentityCommands,
    ClockCommands,
    LedgerBase,
):
    """All use-cases. Feature mixins are listed here as they are added."""


def open_ledger(
    datadir: DataDir,
    *,
    create_tables: bool = True,
    clock: Clock | None = None,
    pre_ping: bool = False,
    dbapi: bool = False,
) -> Ledger:
    """The ledger of a data directory, with its events key checked first.

    ``pre_ping`` (a long-running process: the dashboard): each pooled connection is
    tested before use, so one the database server closed while idle is replaced.

    ``dbapi`` (a command line process): the events through ``sqlite3`` or ``psycopg``
    directly, without importing SQLAlchemy (``ledger.dbapi_store``), when the database
    is the ordinary case; otherwise, as without it, on SQLAlchemy."""
    env = {
        "PERSISTENCE_MODULE": "ledger.store:ChainedFactory",
        "MAPPER_TOPIC": "ledger.mapper:LedgerMapper",
        "SQLALCHEMY_URL": datadir.database_url,
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": datadir.events_key(),
        "CREATE_TABLE": "y" if create_tables else "n",
        "LOCK_TIMEOUT": os.environ.get("CUSTODES_LOCK_TIMEOUT", "10"),
        "LOCK_RETRIES": os.environ.get("CUSTODES_LOCK_RETRIES", "2"),
        "POOL_PRE_PING": "y" if pre_ping else "n",
    }
    ledger = _on_dbapi(env) if dbapi else None
    try:
        ledger = ledger or Ledger(env=env)
    except (OperationalError, PersistenceError) as e:
        raise StoreUnavailable(f"cannot open the ledger database: {_first_line(e)}") from e
    except Exception as e:
        if not isinstance(getattr(e, "orig", None), Exception):
            raise
        # A driver error the recorder did not translate (e.g. SQLite's "disk I/O error"
        # while creating tables on a full disk): one line, nothing was recorded.
        raise StoreUnavailable(
            f"cannot open the ledger database: {_first_line(e.orig)}; nothing was recorded"  # type: ignore[attr-defined]
        ) from e
    ledger.datadir = datadir
    if clock is not None:
        ledger.clock = clock
    return ledger


def _on_dbapi(env: dict[str, str]) -> Ledger | None:
    """The ledger with the DB-API recorder, or None where that path does not apply (the
    SQLAlchemy path then creates what is missing, or says what is wrong)."""
    from ledger.dbapi_store import PERSISTENCE_MODULE, PlainPathUnavailable

    try:
        return Ledger(env={**env, "PERSISTENCE_MODULE": PERSISTENCE_MODULE})
    except PlainPathUnavailable:
        return None
