"""Patrons, never in clear (R22): a keyed pseudonym links requests about one patron; the
details (name, card number, address, phone) are sealed under a per-patron key kept in the
data directory, outside the chain. Destroying that key (``patron forget``) erases the
details everywhere while the chain, which covers only digests, still verifies.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain import LedgerAggregate, stable_id
from ledger.text import folded

ERASED = "erased"  # `patron forget` destroyed the key, on purpose and recorded
MISSING = "missing"  # the key is gone with no forget recorded: restore it from the key backup


def normalise_card(card: str) -> str:
    """Card numbers are compared without spaces or dashes, case-insensitively, with the
    digits of any script read as ASCII digits (session 22: "٢١٠٠٠١٢٣٤٥" gave another
    pseudonym than "2100012345", so the same card typed two ways was two patrons, and
    `patron forget` of one left the other)."""
    return "".join(c for c in folded(card) if c.isalnum()).upper()


# Argon2id (RFC 9106) keyed with the pseudonym key (its secret input K): tens of ms and
# 19 MiB per pseudonym (OWASP's minimum for argon2id), so that someone holding the key
# cannot simply try every card number: a library's card space is small (10^9 numbers
# were tried in 6 s against the HMAC this replaced; see docs/BENCHMARKS.md).
PSEUDONYM_KDF = {"iterations": 2, "lanes": 1, "memory_cost": 19 * 1024}  # memory in KiB
PSEUDONYM_SALT = b"custodes patron pseudonym/2"


def pseudonym(secret: bytes, card: str) -> str:
    """``p-`` and the first 16 hex digits of Argon2id(card number; key = the site's
    pseudonym key): the same card always gives the same pseudonym; without the key it
    cannot be computed at all, and with it each guess costs one memory-hard Argon2id."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    card = normalise_card(card)
    if not card:
        raise ValueError("the card number is empty")
    kdf = Argon2id(
        salt=PSEUDONYM_SALT,
        length=32,
        iterations=PSEUDONYM_KDF["iterations"],
        lanes=PSEUDONYM_KDF["lanes"],
        memory_cost=PSEUDONYM_KDF["memory_cost"],
        secret=secret,
    )
    return "p-" + kdf.derive(card.encode()).hex()[:16]


def patron_id(pseudo: str) -> UUID:
    return stable_id("patron", pseudo)


@dataclass(frozen=True)
class PatronDetails:
    card_number: str
    name: str = ""
    address: str = ""
    phone: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "card_number": self.card_number,
            "name": self.name,
            "address": self.address,
            "phone": self.phone,
        }


def seal(key: bytes, pseudo: str, details: PatronDetails) -> str:
    """AES-GCM under the patron's key; the pseudonym is bound in as associated data."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    plain = json.dumps(details.as_dict(), sort_keys=True).encode()
    blob = nonce + AESGCM(key).encrypt(nonce, plain, pseudo.encode())
    return base64.b64encode(blob).decode()


def unseal(key: bytes | None, pseudo: str, sealed: str) -> PatronDetails | None:
    """The details, or None when the key is gone (erased) or no longer matches."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if key is None:
        return None
    blob = base64.b64decode(sealed)
    try:
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], pseudo.encode())
    except InvalidTag:
        return None
    return PatronDetails(**json.loads(plain))


class Patron(LedgerAggregate):
    """One patron, known by pseudonym. ``key_id`` names the current key file; a patron
    seen again after being forgotten gets a new generation (a new key)."""

    class PatronRecorded(LedgerAggregate.Created):
        pseudonym: str
        key_id: str
        sealed_details: str

    class PatronDetailsRecorded(LedgerAggregate.Event):
        key_id: str
        sealed_details: str

        def apply(self, aggregate: Patron) -> None:
            aggregate.key_id = self.key_id
            aggregate.sealed_details = self.sealed_details
            aggregate.forgotten = False

    class PatronForgotten(LedgerAggregate.Event):
        pseudonym: str
        key_id: str
        reason: str

        def apply(self, aggregate: Patron) -> None:
            aggregate.forgotten = True
            aggregate.generation += 1

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        pseudonym: str,
        key_id: str,
        sealed_details: str,
    ) -> None:
        self.pseudonym = pseudonym
        self.key_id = key_id
        self.sealed_details = sealed_details
        self.forgotten = False
        self.generation = 0

    def next_key_id(self) -> str:
        return key_id_for(self.pseudonym, self.generation)


def key_id_for(pseudo: str, generation: int) -> str:
    return f"{pseudo}-{generation}"
