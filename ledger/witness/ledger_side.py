"""The ledger's use of witnesses: collect cosignatures on a new checkpoint from the
policy's witnesses, and check a kept checkpoint against the witness policy.

For now the policy is a tlog-policy file the operator names (``--witness-policy``, or
``CUSTODES_WITNESS_POLICY``); it is meant to move into the ledger as an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.chain_reader import ChainReader
from ledger.checkpoint import Checkpoint
from ledger.errors import InvalidInput
from ledger.integrity import MerkleProofFailed
from ledger.merkle import consistency_proof
from ledger.witness.client import TIMEOUT, Outcome, request_cosignature
from ledger.witness.cosignature import CosignatureInvalid, add_signature_lines, raw_public
from ledger.witness.policy import (
    Policy,
    PolicyCheck,
    PolicyInvalid,
    check_note,
    parse_policy,
    require_quorum,
)

POLICY_ENV = "CUSTODES_WITNESS_POLICY"


def load_policy(path: Path) -> Policy:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read the witness policy {path}: {e.strerror}") from e
    return policy_from_text(data, f"the witness policy {path}")


def policy_from_text(data: str | bytes, what: str = "the witness policy") -> Policy:
    """Parse a tlog-policy text (a file's, or one the ledger recorded); InvalidInput
    naming ``what`` if it is not one."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return parse_policy(raw)
    except PolicyInvalid as e:
        raise InvalidInput(f"{what} is invalid: {e}") from e


def check_log(policy: Policy, origin: str, public_key: Ed25519PublicKey) -> None:
    """A policy that lists logs must list this one, with this key."""
    if not policy.logs:
        return
    log = policy.log_for(origin)
    if log is None or log.key.public != raw_public(public_key):
        raise InvalidInput(
            f"the witness policy does not list this ledger ({origin}) with its public key"
        )


def check_witnesses(
    policy: Policy, note: str, origin: str, public_key: Ed25519PublicKey, what: str
) -> PolicyCheck:
    """The cosignatures on ``note`` meet the policy's quorum.

    MerkleProofFailed (exit 3) if a listed witness's cosignature does not verify;
    QuorumNotMet (exit 1) if too few witnesses cosigned."""
    check_log(policy, origin, public_key)
    try:
        return require_quorum(policy, note, what)
    except CosignatureInvalid as e:
        raise MerkleProofFailed(f"{what}: {e}") from e


@dataclass(frozen=True)
class Collected:
    note: str
    outcomes: list[Outcome]
    check: PolicyCheck
    evidence: list[str]  # witnesses whose answer shows this ledger lost or rewrote entries


def collect_cosignatures(
    reader: ChainReader,
    cp: Checkpoint,
    note: str,
    policy: Policy,
    *,
    only: tuple[str, ...] = (),
    timeout: float = TIMEOUT,
) -> Collected:
    """Ask every policy witness with a URL (or those named in ``only``, by policy name
    or URL) to cosign ``note``; returns the note with the verified cosignatures added."""
    wanted = [
        w
        for w in policy.witnesses
        if w.url is not None and (not only or w.name in only or w.url in only)
    ]
    unknown = [name for name in only if not any(name in (w.name, w.url) for w in wanted)]
    if unknown:
        raise InvalidInput(
            f"witness {unknown[0]!r} is not a witness with a URL in the witness policy"
        )
    store = reader.node_store()
    try:

        def prove(old: int) -> list[bytes]:
            return consistency_proof(old, cp.size, store)

        outcomes = [request_cosignature(w, note, cp.size, prove, timeout=timeout) for w in wanted]
        tree_size, _ = store.tree_state()
    finally:
        store.close()
    for outcome in outcomes:
        note = add_signature_lines(note, outcome.lines)
    evidence = [
        f"witness {o.witness}: {o.detail}"
        for o in outcomes
        if o.status == "inconsistent" or (o.status == "ahead" and (o.size or 0) > tree_size)
    ]
    return Collected(note, outcomes, check_note(policy, note), evidence)


def recorded_policy(text: str | None) -> Policy | None:
    """The witness policy the ledger keeps (``custodes witness policy set``), if any."""
    return None if text is None else parse_policy(text.encode("utf-8"))


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint signed now over the verified ledger, with the cosignatures its
    witness policy's witnesses gave (``collected``: None without a policy)."""

    checkpoint: Checkpoint
    note: str
    collected: Collected | None

    @property
    def evidence(self) -> list[str]:
        return self.collected.evidence if self.collected is not None else []


def witnessed_checkpoint(
    reader: ChainReader,
    *,
    origin: str,
    signing_key: Any,
    public_key: Ed25519PublicKey,
    policy: Policy | None,
    now: datetime,
    only: tuple[str, ...] = (),
    keep_in: Path | None = None,
) -> Witnessed:
    """``custodes checkpoint`` and the dashboard's checkpoint download: the policy must
    list this ledger with its key, the whole chain is verified and its tree head signed,
    then the policy's witnesses (with a URL; or those named in ``only``) are asked to
    cosign it. ``evidence`` names a witness whose answer shows this ledger rewrote or
    lost entries it had cosigned (the caller reports it as tampering). ``keep_in``: the
    data directory, where the note is kept as the last signed checkpoint."""
    from ledger.integrity import issue_checkpoint

    if policy is not None:
        check_log(policy, origin, public_key)
    cp, note = issue_checkpoint(reader, origin=origin, signing_key=signing_key, now=now)
    if policy is None:
        made = Witnessed(cp, note, None)
    else:
        collected = collect_cosignatures(reader, cp, note, policy, only=only)
        made = Witnessed(cp, collected.note, collected)
    if keep_in is not None:
        keep_checkpoint(keep_in, made.note)
    return made


# ---- the last signed checkpoint, for the dashboard --------------------------------------------

LAST_CHECKPOINT = "last.checkpoint"


def keep_checkpoint(data_dir: Path, note: str) -> None:
    """Keep the newest signed checkpoint, cosignatures included, in the data directory.
    A file is enough: the note proves itself (the ledger's signature, each witness's
    cosignature), so a changed one is refused when read; putting an older one back can
    only show an older checkpoint."""
    from ledger.outfiles import write_bytes

    write_bytes(data_dir / LAST_CHECKPOINT, note.encode(), force=True, ledger_file=True)


@dataclass(frozen=True)
class KeptCheckpoint:
    """The last signed checkpoint and what its cosignatures amount to under the ledger's
    witness policy (``check`` None: no policy; ``problem``: why they do not count)."""

    checkpoint: Checkpoint
    check: PolicyCheck | None
    witnesses: int
    problem: str = ""


def kept_checkpoint(
    data_dir: Path, *, origin: str, public_key: Ed25519PublicKey, policy: Policy | None
) -> KeptCheckpoint | None:
    """The checkpoint ``keep_checkpoint`` kept, its signature checked with the ledger's
    public key and its cosignatures judged as ``verify --against`` judges them
    (``check_note``); None if none was kept. InvalidInput if its signature fails."""
    from ledger.integrity import read_checkpoint

    try:
        note = (data_dir / LAST_CHECKPOINT).read_text()
    except FileNotFoundError:
        return None
    cp = read_checkpoint(note, public_key, origin)
    if policy is None:
        return KeptCheckpoint(cp, None, 0)
    try:
        return KeptCheckpoint(cp, check_note(policy, note), len(policy.witnesses))
    except CosignatureInvalid as e:
        return KeptCheckpoint(cp, None, len(policy.witnesses), f"a cosignature fails: {e}")
