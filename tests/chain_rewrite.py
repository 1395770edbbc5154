"""What a careful insider does with plain SQL: rewrite every chain column from some row on,
re-signing each act with the keys they hold (in these tests: all of them). Plain
``verify`` cannot tell a consistent rewrite by the keys' own holders; a checkpoint kept
elsewhere can (docs/FORMAT.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from ledger import credentials
from ledger.acts import ActRequest, Envelope, Signer, Statement, key_id
from ledger.chain import GENESIS, chain_columns, entry_hash, state_digest
from ledger.datadir import DataDir
from ledger.staff import SERVICE_NAME, staff_id
from tests.identity import passphrase

TABLE = "ledger_events"


def held_keys(data_dir: Path) -> dict[UUID, Ed25519PrivateKey]:
    """Every key the data directory holds: each member's (by test passphrase) and the
    service's."""
    dd = DataDir.open(data_dir)
    keys: dict[UUID, Ed25519PrivateKey] = {}
    for path in (dd.keys / "staff").glob("*.key"):
        header = json.loads(path.read_bytes())
        member = UUID(header["member"])
        keys[member] = credentials.unwrap(
            path.read_bytes(),
            passphrase(header["name"]).encode(),
            member_id=member,
            key_id_expected=header["key_id"],
        )
    keys[staff_id(SERVICE_NAME)] = dd.service_key()
    return keys


def rechain_from(
    data_dir: Path,
    first_id: int,
    *,
    resign: bool = True,
    signer_key: Ed25519PrivateKey | None = None,
    signer_name: str | None = None,
    at: datetime | None = None,
) -> None:
    """Re-chain every act from the one holding ``first_id`` on. With ``resign`` (the
    default) each act is signed again: by the key its statement names (held by the
    insider), or by ``signer_key`` (as ``signer_name``'s act when given), at its own time
    or ``at``. Without ``resign`` the act records stay as they are, only the hashes are
    made consistent again."""
    keys = held_keys(data_dir)
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                f"SELECT id, originator_id, originator_version, topic, state, act "
                f"FROM {TABLE} ORDER BY id"
            )
        ).all()
        acts: list[list] = [[]]
        for r in rows:
            acts[-1].append(r)
            if r[5]:
                acts.append([])
        acts = [a for a in acts if a]
        start = next(i for i, a in enumerate(acts) if any(r[0] >= first_id for r in a))
        before = [r for a in acts[:start] for r in a]
        head = (
            conn.execute(
                text(f"SELECT position, entry_hash FROM {TABLE} WHERE id = :i"),
                {"i": before[-1][0]},
            ).one()
            if before
            else (0, GENESIS)
        )
        position, prev = head[0], bytes(head[1])
        oid = lambda o: o.bytes if hasattr(o, "bytes") else bytes(o)  # noqa: E731
        for act in acts[start:]:
            if not resign:
                links = []
                for r in act:
                    position += 1
                    digest = state_digest(bytes(r[4]))
                    record = None if r[5] is None else bytes(r[5])
                    h = entry_hash(position, prev, r[0], oid(r[1]), r[2], r[3], digest, record)
                    links.append((position, digest, prev, h, record))
                    prev = h
            else:
                old = Statement.from_bytes(Envelope.from_bytes(bytes(act[-1][5])).statement)
                member = staff_id(signer_name) if signer_name else old.signer
                key = signer_key or keys[member]
                signer = Signer(member, "", "", key_id(key.public_key()), key)
                moment = at or old.time
                request = ActRequest(signer, old.os_user, lambda t=moment: t, old.delegation)
                links = list(
                    chain_columns(
                        ((r[0], oid(r[1]), r[2], r[3], bytes(r[4])) for r in act),
                        position,
                        prev,
                        request.sealer(moment),
                    )
                )
                position, prev = links[-1][0], links[-1][3]
            for r, (pos, digest, link, h, record) in zip(act, links, strict=True):
                conn.execute(
                    text(
                        f"UPDATE {TABLE} SET position = :p, state_digest = :d, prev_hash = :v, "
                        "entry_hash = :h, act = :a WHERE id = :i"
                    ),
                    {"p": pos, "d": digest, "v": link, "h": h, "a": record, "i": r[0]},
                )
    engine.dispose()
