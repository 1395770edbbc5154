"""Which witness policy judges a kept checkpoint, and where it came from (docs/WITNESS.md).

A policy is the operator's file (``--witness-policy``), or a text the ledger recorded
(``witness policy set``): either the one whose SHA-256 the operator brings
(``--witness-policy-sha256``: the digest authenticates it), or, with neither, the one
in force at the checkpoint (the last recorded within its size). That last one is the
checked ledger's own claim: whoever holds the library's key chooses it, so it is said.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import InvalidInput
from ledger.witness.ledger_side import load_policy, policy_from_text
from ledger.witness.policy import Policy

if TYPE_CHECKING:
    from ledger.app import Ledger

FILE = "file"
LEDGER = "ledger"


@dataclass(frozen=True)
class ChosenPolicy:
    """A witness policy and its provenance, as `verify --against` and `restore
    --against` print it (``--json``: ``policy_sha256``, ``policy_source``,
    ``policy_from``)."""

    policy: Policy
    sha256: str
    source: str  # FILE or LEDGER
    where: str  # the file's path, or where in the ledger it was recorded
    # True when nothing the operator brought pins it: the checked ledger's own claim
    own_claim: bool = False

    def describe(self) -> str:
        return f"witness policy SHA-256 {self.sha256}, from {self.where}"


@dataclass(frozen=True)
class Recorded:
    """A witness policy the ledger recorded (event ``Site.WitnessPolicySet``)."""

    position: int
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def from_file(path: Path) -> ChosenPolicy:
    policy = load_policy(path)
    return ChosenPolicy(policy, hashlib.sha256(path.read_bytes()).hexdigest(), FILE, str(path))


def check_sha256(value: str) -> str:
    """A digest as given on the command line: 64 hex digits, any case."""
    digest = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidInput("--witness-policy-sha256 takes 64 hexadecimal digits")
    return digest


def recorded_policies(ledger: Ledger, upto: int | None = None) -> list[Recorded]:
    """Every witness policy the ledger recorded (at or before log position ``upto``),
    oldest first. The texts are encrypted like every act: needs the events key."""
    from eventsourcing.utils import get_topic

    from ledger.site import Site

    topic = get_topic(Site.WitnessPolicySet)
    found: list[Recorded] = []
    start = 1
    while upto is None or start <= upto:
        batch = ledger.recorder.select_notifications(start, 500, stop=upto, topics=[topic])
        for n in batch:
            event: Any = ledger.mapper.to_domain_event(n)
            found.append(Recorded(n.id, str(event.policy)))
        if len(batch) < 500:
            break
        start = batch[-1].id + 1
    return found


def with_sha256(recorded: Sequence[Recorded], digest: str, whose: str, fix: str) -> ChosenPolicy:
    """The recorded policy whose SHA-256 the operator gave (the digest authenticates it,
    so where it was found does not matter); InvalidInput naming the recorded digests."""
    found = [r for r in recorded if r.sha256 == digest]
    if not found:
        listed = ", ".join(r.sha256[:16] for r in recorded)
        raise InvalidInput(
            f"{whose} records no witness policy with SHA-256 {digest} "
            + (f"(it records: {listed}...)" if recorded else "(it records none)")
            + f": {fix}"
        )
    r = found[-1]
    policy = policy_from_text(r.text, "the recorded witness policy")
    where = f"{whose} (position {r.position}), accepted because its SHA-256 is the one you gave"
    return ChosenPolicy(policy, digest, LEDGER, where)


def in_force_at(recorded: Sequence[Recorded], size: int, whose: str) -> ChosenPolicy | None:
    """The policy in force at a checkpoint of ``size`` entries: the last one recorded
    among them (None: none was). It is the checked ledger's own claim."""
    within = [r for r in recorded if r.position <= size]
    if not within:
        return None
    r = within[-1]
    policy = policy_from_text(r.text, "the recorded witness policy")
    where = (
        f"{whose} itself (recorded at position {r.position}, in force at the "
        f"checkpoint's size {size})"
    )
    return ChosenPolicy(policy, r.sha256, LEDGER, where, own_claim=True)


OWN_CLAIM_WARNING = (
    "the witness policy is the checked ledger's own claim: whoever can rewrite the ledger "
    "and holds its signing key chooses it. Bring your own copy: --witness-policy FILE or "
    "--witness-policy-sha256 HEX (its digest from the board's minutes or `witness policy "
    "show | sha256sum`)."
)
