"""Recording a whole-chain verification's outcome in the ledger, and reading the last
one (the dashboard's integrity panel). The aggregate is
``ledger.verification_records.VerificationRecord``, imported where it is used."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from ledger import rules
from ledger.application import LedgerBase
from ledger.chain import VerifyResult
from ledger.permissions import ALL_ROLES
from ledger.unlock import os_user


def describe_damage(result: VerifyResult) -> str:
    """The first damage as ``custodes verify`` reports it ("" when the chain is intact)."""
    d = result.damage
    if d is None:
        return ""
    return (
        f"ledger verification FAILED at position {d.position}: {d.kind} ({d.detail}); "
        f"{result.count} entries before it verify"
    )


class VerificationCommands(LedgerBase):
    def record_verification(
        self, result: VerifyResult, *, deep: bool, via: str, actor: str
    ) -> None:
        """Record what a whole-chain verification found, as ``actor`` (a signed-in member,
        or the service identity for an unattended run). A failed one too: the damage is
        somewhere before the head, and the new entry only extends the chain."""
        from ledger.verification_records import VerificationRecord

        who = self.authorize(actor, "record a verification", ALL_ROLES, rules.STAFF_ROLE)
        record = VerificationRecord._create(
            VerificationRecord.LedgerVerified,
            id=uuid4(),
            timestamp=self.clock(),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            ok=result.ok,
            entries=result.count,
            acts=result.acts,
            head=result.head_hash.hex(),
            deep=deep,
            problem=describe_damage(result),
            via=via,
            os_user=os_user(),
        )
        self.save(record)

    def last_verification(self) -> dict[str, object] | None:
        """The latest verification recorded in the ledger, or None."""
        from ledger.verification_records import VerificationRecord

        seen = self._events_seen(VerificationRecord.LedgerVerified)
        if not seen:
            return None
        last = seen[-1]
        return {
            "at": last.timestamp,  # type: ignore[attr-defined]
            **{
                k: getattr(last, k)
                for k in ("actor", "actor_role", "ok", "entries", "problem", "via", "os_user")
            },
        }


# ---- a failure the ledger could not take ----------------------------------------------------

UNRECORDED_FAILURE = "unrecorded-verification-failure.json"


def keep_unrecorded_failure(
    data_dir: Path, result: VerifyResult, *, by: str, via: str, at: datetime, why: str
) -> None:
    """A failed verification whose event the ledger could not take (a damaged head, a
    read-only database, no key to sign with) is kept in the data directory instead, so
    it is still shown. Only failures: a file anyone with the directory can write must
    never be able to make the ledger look verified."""
    from ledger.outfiles import write_bytes

    body = {
        "at": at.astimezone(UTC).isoformat(),
        "actor": by,
        "actor_role": "",
        "ok": False,
        "entries": result.count,
        "problem": describe_damage(result),
        "via": via,
        "os_user": os_user(),
        "not_recorded": why,
    }
    write_bytes(data_dir / UNRECORDED_FAILURE, json.dumps(body).encode(), force=True)


def unrecorded_failure(data_dir: Path) -> dict[str, object] | None:
    """The failed verification kept by ``keep_unrecorded_failure``, if any (never "ok")."""
    try:
        body = json.loads((data_dir / UNRECORDED_FAILURE).read_bytes())
        return {**body, "at": datetime.fromisoformat(body["at"]), "ok": False}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def last_outcome(ledger: VerificationCommands, data_dir: Path) -> dict[str, object] | None:
    """The most recent verification: the ledger's last recorded one, or a later failure
    the ledger could not take (at the same moment, the failure)."""
    found = [o for o in (ledger.last_verification(), unrecorded_failure(data_dir)) if o]
    return max(found, key=lambda o: (o["at"], not o["ok"]), default=None)  # type: ignore[arg-type,return-value]
