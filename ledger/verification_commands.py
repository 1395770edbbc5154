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
from ledger.errors import InvalidInput
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
        """Record a whole-chain verification that passed, as ``actor`` (a signed-in member,
        or the service identity for an unattended run). A failed one is refused: nothing
        is appended to a chain that fails verification (``keep_failure`` keeps it)."""
        from ledger.verification_records import VerificationRecord

        if not result.ok:
            raise InvalidInput("nothing is appended to a chain that fails verification")
        who = self.authorize(actor, "record a verification", ALL_ROLES, rules.STAFF_ROLE)
        record = VerificationRecord._create(
            VerificationRecord.LedgerVerified,
            id=uuid4(),
            timestamp=self.clock(),
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            entries=result.count,
            acts=result.acts,
            head=result.head_hash.hex(),
            deep=deep,
            via=via,
            os_user=os_user(),
        )
        self.save(record)

    def last_verification(self) -> dict[str, object] | None:
        """The latest verification recorded in the ledger (one that passed), or None."""
        from ledger.verification_records import VerificationRecord

        seen = self._events_seen(VerificationRecord.LedgerVerified)
        if not seen:
            return None
        last = seen[-1]
        return {
            "at": last.timestamp,  # type: ignore[attr-defined]
            "ok": True,
            "problem": "",
            **{k: getattr(last, k) for k in ("actor", "actor_role", "entries", "via", "os_user")},
        }


# ---- a failure, kept beside the chain it found damaged -------------------------------------

FAILURE = "verification-failure.json"


def keep_failure(data_dir: Path, result: VerifyResult, *, by: str, via: str, at: datetime) -> Path:
    """Keep a failed verification in the data directory (0600), replacing the last one:
    never appended to the damaged chain, where an entry after a truncated tail would
    change how the damage shows. Only failures are kept here: a file anyone with the
    directory can write must never be able to make the ledger look verified (and one
    written to make it look damaged is undone by verifying again)."""
    from ledger.outfiles import write_bytes

    body = {
        "at": at.astimezone(UTC).isoformat(),
        "actor": by,
        "actor_role": "",
        "entries": result.count,
        "problem": describe_damage(result),
        "via": via,
        "os_user": os_user(),
    }
    return write_bytes(data_dir / FAILURE, json.dumps(body).encode(), force=True, ledger_file=True)


def kept_failure(data_dir: Path) -> dict[str, object] | None:
    """The failed verification ``keep_failure`` kept, if any (never "ok")."""
    try:
        body = json.loads((data_dir / FAILURE).read_bytes())
        return {**body, "at": datetime.fromisoformat(body["at"]), "ok": False, "kept": True}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def last_outcome(
    ledger: VerificationCommands, data_dir: Path, now: datetime
) -> dict[str, object] | None:
    """The most recent verification: the ledger's last recorded one, or a later failure
    kept in the data directory (at the same moment, the failure). A kept failure dated
    after ``now`` was not written by a verification on this clock: it is ignored, or a
    hand-written file dated years ahead would outrank every later verification."""
    failure = kept_failure(data_dir)
    if failure is not None and failure["at"] > now:  # type: ignore[operator]
        failure = None
    found = [o for o in (ledger.last_verification(), failure) if o]
    return max(found, key=lambda o: (o["at"], not o["ok"]), default=None)  # type: ignore[arg-type,return-value]
