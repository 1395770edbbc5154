"""The ledger's errors: one base, subclasses named after conditions (STYLE.md)."""

from __future__ import annotations

from ledger.rules import Rule


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class NotPermitted(LedgerError):
    """A policy rule refused the act; the refusal has been recorded."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(f"{rule.cite()}: {message}")
        self.rule = rule


class NotFound(LedgerError):
    """An object the command names does not exist."""


class AlreadyExists(LedgerError):
    """The object exists already; nothing was recorded."""


class InvalidInput(LedgerError):
    """Bad input: nothing was recorded."""


class DataDirError(LedgerError):
    """The data directory is missing, not a Custodes data directory, or unusable."""


class KeyError_(LedgerError):  # noqa: N801 - avoids shadowing the builtin KeyError
    """A key file is missing, unreadable or does not belong to this ledger."""


class StoreUnavailable(LedgerError):
    """The database cannot be used right now (locked, read-only, unreachable)."""
