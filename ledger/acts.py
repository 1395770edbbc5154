"""Signed acts (R25): one signature per save, over exactly the entries it appends.

Pure: no database, no clock. ``docs/FORMAT.md`` ("Signed acts") gives the bytes, so an
auditor can check a signature with any Ed25519 library or with openssl.

An *act* is one save: the events one command records, appended together. The last chain
entry of every act carries the act's record in its ``act`` column, and that column is
hashed into the entry (so stripping or swapping a signature breaks the chain). The
record is a DSSE envelope (github.com/secure-systems-lab/dsse, "Envelope") whose payload
is the *statement*:

    {"count": k, "entries": hex(SHA-256(core_1 || ... || core_k)), "first": p,
     "os_user": "...", "signer": "<member id>", "time": "...Z", "type": "custodes-act/v1"}

where ``core_i`` is the hash entry ``p + i - 1`` would have with an empty ``act`` column
(``ledger.chain.core_hash``): the statement commits to the act's entries, their positions
and, through the first ``prev_hash``, to the whole chain before them. The signature is
Ed25519 over DSSE's pre-authentication encoding ``PAE(payloadType, statement)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PAYLOAD_TYPE = "application/vnd.custodes.act.v1+json"
STATEMENT_TYPE = "custodes-act/v1"
KEY_ID_DOMAIN = b"custodes/staff-key/v1\x00"
ENROLMENT_DOMAIN = b"custodes/key-enrolment/v1\x00"
SESSION_DOMAIN = b"custodes/session-key/v1\x00"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ActInvalid(ValueError):
    """An act record that is not well formed, or whose statement does not match."""


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII only (non-ASCII as \\u escapes): one byte string per
    value, whatever language writes it. Only strings, integers, lists and objects occur."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP
    body``, lengths as ASCII decimal byte counts."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A staff key's id: the first 16 bytes of SHA-256(domain || raw public key), in hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(KEY_ID_DOMAIN + raw).hexdigest()[:32]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def format_time(moment: datetime) -> str:
    """Fixed width UTC with microseconds, so recorded times also sort as text."""
    if moment.tzinfo is None:
        raise ValueError("an act's time must carry its time zone")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def session_message(member_id: UUID, kid: str, expires: str) -> bytes:
    """What a session key signs to prove its holder asked for it (``custodes login``)."""
    return SESSION_DOMAIN + member_id.bytes + bytes.fromhex(kid) + expires.encode()


def enrolment_message(member_id: UUID, kid: str, role: str) -> bytes:
    """What a new key signs to prove its holder enrolled it (proof of possession)."""
    return ENROLMENT_DOMAIN + member_id.bytes + bytes.fromhex(kid) + role.encode()


@dataclass(frozen=True)
class Statement:
    first: int
    count: int
    entries: str  # hex SHA-256 of the concatenated core hashes
    signer: UUID
    os_user: str
    time: datetime
    delegation: str | None = None  # the delegation an acting Director signed under (R3)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "count": self.count,
            "entries": self.entries,
            "first": self.first,
            "os_user": self.os_user,
            "signer": str(self.signer),
            "time": format_time(self.time),
            "type": STATEMENT_TYPE,
        }
        if self.delegation is not None:
            body["delegation"] = self.delegation
        return canonical_json(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        try:
            body = json.loads(data)
            if not isinstance(body, dict) or body.get("type") != STATEMENT_TYPE:
                raise ActInvalid(f"the statement's type is not {STATEMENT_TYPE}")
            statement = cls(
                first=_int(body["first"]),
                count=_int(body["count"]),
                entries=str(body["entries"]),
                signer=UUID(str(body["signer"])),
                os_user=str(body["os_user"]),
                time=parse_time(str(body["time"])),
                delegation=None if body.get("delegation") is None else str(body["delegation"]),
            )
        except (KeyError, TypeError, ValueError, UnicodeError) as e:
            if isinstance(e, ActInvalid):
                raise
            raise ActInvalid(f"the statement is not well formed ({e})") from e
        if statement.to_bytes() != data:
            raise ActInvalid("the statement is not in canonical form")
        return statement


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


def cores_digest(cores: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for core in cores:
        h.update(core)
    return h.hexdigest()


@dataclass(frozen=True)
class Envelope:
    statement: bytes
    kid: str
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "payload": base64.b64encode(self.statement).decode(),
                "payloadType": PAYLOAD_TYPE,
                "signatures": [
                    {"keyid": self.kid, "sig": base64.b64encode(self.signature).decode()}
                ],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        try:
            body = json.loads(data)
            if body.get("payloadType") != PAYLOAD_TYPE:
                raise ActInvalid(f"the envelope's payloadType is not {PAYLOAD_TYPE}")
            [sig] = body["signatures"]
            envelope = cls(
                statement=base64.b64decode(body["payload"], validate=True),
                kid=str(sig["keyid"]),
                signature=base64.b64decode(sig["sig"], validate=True),
            )
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as e:
            if isinstance(e, ActInvalid):
                raise
            raise ActInvalid(f"the act record is not a DSSE envelope ({e})") from e
        if envelope.to_bytes() != bytes(data):
            raise ActInvalid("the act record is not in canonical form")
        return envelope

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Nothing, or InvalidSignature."""
        public_key.verify(self.signature, pae(PAYLOAD_TYPE, self.statement))


@dataclass(frozen=True)
class Signer:
    """An unlocked staff (or service) key: who signs an act, with which key."""

    member_id: UUID
    name: str
    role: str
    key_id: str
    private_key: Ed25519PrivateKey = field(repr=False)
    # A session key (``custodes login``): the member's key that vouched for it, and the
    # end of its validity as vouched in the ledger. None for the member's own key.
    parent: str | None = None
    expires: datetime | None = None

    @property
    def main_key_id(self) -> str:
        """The member's own key: this one, or the one that vouched for this session."""
        return self.parent or self.key_id


@dataclass(frozen=True)
class ActRequest:
    """What the recorder needs to sign a save: the signer, the OS user and the clock read
    at append (R26), the delegation an acting Director signs under (R3), and for the
    Director's clock correction the recorded time it sets aside (the head's: only then may
    the act be timed before it)."""

    signer: Signer
    os_user: str
    clock: Callable[[], datetime]
    delegation: str | None = None
    corrects: datetime | None = None

    def sealer(self, moment: datetime) -> Callable[[int, int, str], bytes]:
        def _seal(first: int, count: int, entries: str) -> bytes:
            return seal(
                Statement(
                    first=first,
                    count=count,
                    entries=entries,
                    signer=self.signer.member_id,
                    os_user=self.os_user,
                    time=moment,
                    delegation=self.delegation,
                ),
                self.signer.private_key,
            )

        return _seal


def act_time(record: bytes | None) -> datetime | None:
    """The recorded time of an act record (no signature check: the recorder reads the head
    it is about to extend; ``verify`` checks signatures)."""
    if not record:
        return None
    try:
        return Statement.from_bytes(Envelope.from_bytes(record).statement).time
    except ActInvalid:
        return None


def seal(statement: Statement, private_key: Ed25519PrivateKey) -> bytes:
    """The act record for ``statement``, signed with ``private_key``."""
    data = statement.to_bytes()
    signature = private_key.sign(pae(PAYLOAD_TYPE, data))
    return Envelope(data, key_id(private_key.public_key()), signature).to_bytes()


def open_act(record: bytes, public_key: Ed25519PublicKey) -> Statement:
    """The statement of a verified act record (ActInvalid or InvalidSignature otherwise)."""
    envelope = Envelope.from_bytes(record)
    if envelope.kid != key_id(public_key):
        raise ActInvalid("the act names another key")
    envelope.verify(public_key)
    return Statement.from_bytes(envelope.statement)


__all__ = [
    "PAYLOAD_TYPE",
    "ActInvalid",
    "ActRequest",
    "Envelope",
    "InvalidSignature",
    "Signer",
    "Statement",
    "act_time",
    "canonical_json",
    "cores_digest",
    "enrolment_message",
    "format_time",
    "key_id",
    "open_act",
    "pae",
    "parse_time",
    "raw_public_key",
    "seal",
]
