"""Patrons, never in clear (R22): a keyed pseudonym links requests about one patron; the
details (name, card number, address, phone) are sealed under a per-patron key kept in the
data directory, outside the chain. Destroying that key (``patron forget``) erases the
details everywhere while the chain, which covers only digests, still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain import LedgerAggregate, stable_id

ERASED = "erased"


def normalise_card(card: str) -> str:
    """Card numbers are compared without spaces or dashes, case-insensitively."""
    return "".join(c for c in card if c.isalnum()).upper()


def pseudonym(secret: bytes, card: str) -> str:
    """``p-`` and the first 16 hex digits of HMAC-SHA-256(site secret, card number): the
    same card always gives the same pseudonym, and without the secret it cannot be
    reversed by trying card numbers."""
    card = normalise_card(card)
    if not card:
        raise ValueError("the card number is empty")
    digest = hmac.new(secret, b"custodes patron\x00" + card.encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:16]


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
