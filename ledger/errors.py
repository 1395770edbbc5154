"""The ledger's errors: one base, subclasses named after conditions."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.rules import Rule


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    def __str__(self) -> str:
        # Messages quote what people typed (names, reasons): a control character in one
        # is shown escaped, never sent to a terminal (issue 14, ``ledger.text``).
        from ledger.text import printable

        return printable(super().__str__(), keep_newlines=True)


class NotPermitted(LedgerError):
    """A policy rule refused the act; the refusal has been recorded (``recorded`` False:
    the ledger could take no act, e.g. a clock set ahead blocks it, and the message says so)."""

    def __init__(self, rule: Rule, message: str, *, recorded: bool = True) -> None:
        super().__init__(f"{rule.cite()}: {message}")
        self.rule = rule
        self.recorded = recorded


def unrecorded(rule: Rule, message: str, blocked: ClockBehind) -> NotPermitted:
    """The refusal of ``message`` that a clock set ahead kept from being recorded (R26):
    refused all the same, saying it was not recorded."""
    return NotPermitted(
        rule,
        f"{message} (not recorded: the ledger's last act is timed "
        f"{blocked.last.isoformat(timespec='seconds')}, ahead of this clock; see: custodes "
        "clock show)",
        recorded=False,
    )


class NotFound(LedgerError):
    """An object the command names does not exist."""


class AlreadyExists(LedgerError):
    """The object exists already; nothing was recorded."""


class InvalidInput(LedgerError):
    """Bad input: nothing was recorded."""


class StaleForm(LedgerError):
    """A form opened on an earlier version of the record it acts on (another browser
    acted first), or one that does not say which version it was opened on: checked
    after the member's authorization, so nothing was recorded (the web's 409)."""

    def __init__(self, message: str, *, version: int) -> None:
        super().__init__(message)
        self.version = version


class InvalidTime(InvalidInput):
    """A typed date or time that cannot be read, or names no single instant in site time
    (R24): a usage error, so the CLI shows it with the option it came from (exit 2)."""


class DataDirError(LedgerError):
    """The data directory is missing, not a Custodes data directory, or unusable."""


class KeyError_(LedgerError):  # noqa: N801 - avoids shadowing the builtin KeyError
    """A key file is missing, unreadable or does not belong to this ledger."""


class NotAuthenticated(LedgerError):
    """The named member has not unlocked their key in this process (a programming error
    when it reaches the recorder: ``authorize`` refuses and records such attempts)."""


# What a refusal about the clock says was left undone; a sweep stopped between batches
# says what it did instead (``capture.sweep``).
NOTHING_RECORDED = "nothing was recorded"
NOTHING_DESTROYED = "nothing was destroyed or recorded"


class ClockBehind(LedgerError):
    """The system clock reads earlier than the last recorded act (R26): nothing recorded."""

    def __init__(self, moment: datetime, last: datetime) -> None:
        self.moment, self.last = moment, last
        super().__init__(
            f"the system clock ({moment.isoformat(timespec='seconds')}) is "
            f"{last - moment} behind the ledger's last recorded act "
            f"({last.isoformat(timespec='seconds')}); {NOTHING_RECORDED}. Correct the "
            "clock (e.g. enable NTP) and run the command again. If it is the ledger's last "
            "act that a clock set ahead recorded (custodes clock show), the Director sets "
            "its time aside: custodes clock correct --reason TEXT."
        )


class ClockDisagrees(LedgerError):
    """This host's clock and an independent one differ by more than the clocks' tolerance
    (R26): footage is destroyed by the time, so nothing was destroyed or recorded."""

    def __init__(self, source: str, moment: datetime, reference: datetime) -> None:
        self.source, self.moment, self.reference = source, moment, reference
        gap = timedelta(seconds=round(abs(moment - reference).total_seconds()))
        side = "ahead of" if moment > reference else "behind"
        super().__init__(
            f"this host's clock ({moment.isoformat(timespec='seconds')}) is {gap} {side} "
            f"{source} ({reference.isoformat(timespec='seconds')}); {NOTHING_DESTROYED}. "
            "The sweep destroys footage by the time, so it does not run on a "
            "clock another one contradicts: correct whichever clock is wrong (e.g. enable "
            "NTP on both) and run it again."
        )


class ServerClockReplaced(LedgerError):
    """The database server's clock function is not PostgreSQL's own (R26): it cannot
    vouch for this host's clock, so nothing was destroyed or recorded."""


class SessionEnded(LedgerError):
    """An act signed with a session key (``custodes login``) after its vouched end."""

    def __init__(self, name: str, ends: datetime) -> None:
        super().__init__(
            f"{name}'s session ended at {ends.isoformat(timespec='seconds')}; nothing was "
            f"recorded. Sign in again: custodes login {name!r}"
        )


class LedgerMoved(LedgerError):
    """A clock correction names a last recorded time the ledger no longer ends with."""

    def __init__(self, last: datetime | None) -> None:
        shown = last.isoformat(timespec="seconds") if last is not None else "none"
        super().__init__(
            f"the ledger's last recorded act changed (now {shown}) while the correction was "
            "being made; nothing was recorded. Look again (custodes clock show) and rerun."
        )


class StoreUnavailable(LedgerError):
    """The database cannot be used right now (locked, read-only, unreachable)."""


class LedgerBusy(StoreUnavailable):
    """Another writer held the write lock past the timeout on every attempt.

    Nothing was recorded, so the same command may simply be run again."""

    retryable = True

    def __init__(self, *, attempts: int, detail: str) -> None:
        super().__init__(
            f"the ledger database stayed locked by another writer ({detail}; "
            f"{attempts} attempt{'s' if attempts != 1 else ''}); nothing was recorded. "
            "It is safe to run the same command again."
        )
        self.attempts = attempts
