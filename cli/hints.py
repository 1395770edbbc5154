"""What to add to a refusal so the reader can fix it: "Did you mean ...?" for a name that
is not on the staff list (``--as``), from the registered names, never the typo itself."""

from __future__ import annotations

from cli.common import Context
from ledger import rules
from ledger.errors import LedgerError, NotPermitted
from ledger.suggestions import did_you_mean


def explain(error: LedgerError, shared: Context | None) -> str:
    message = str(error)
    if (
        shared is not None
        and shared.actor
        and isinstance(error, NotPermitted)
        and error.rule.id == rules.STAFF_ACTIVE.id
    ):
        hint = _staff_hint(shared, shared.actor)
        if hint:
            message = f"{message}. {hint}"
    return message


def _staff_hint(shared: Context, name: str) -> str:
    members = shared.ledger().staff()
    if any(m.name.casefold() == name.strip().casefold() for m in members):
        return ""  # registered but deactivated: the refusal says so
    return did_you_mean(name, (m.name for m in members if m.active))
