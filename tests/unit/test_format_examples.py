"""The examples in docs/FORMAT.md and docs/WITNESS.md are what the code computes.

Each example in the documents is a fenced block right after a marker line
``<!-- example: NAME -->``; EXAMPLES below computes each one from the code. Running this
file as a script prints them all (to paste after a deliberate format change).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.canonical_json import canonical_json
from ledger.checkpoint import Checkpoint, key_id, sign_checkpoint, vkey
from ledger.evidence import clip_line, content_digest, export_id
from ledger.merkle import MemoryNodeStore, MerkleAppender, leaf_hash, root_at
from ledger.proof_files import consistency_from_store
from ledger.witness.cosignature import cosign, cosigner_vkey
from ledger.witness.service import request_body

DOCS = Path(__file__).resolve().parents[2] / "docs"
# RFC 8032 section 7.1: TEST 1's secret key signs for the example log, TEST 2's for
# the example witness.
LOG_KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
)
ORIGIN = "custodes/00000000-0000-4000-8000-000000000001"
WITNESS = "witness.example.org/board"
OLD_TIME = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NEW_TIME = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
# The example ledger's entry hashes: SHA-256 of "1", "2", ... "7".
ENTRY_HASHES = [hashlib.sha256(str(i).encode()).digest() for i in range(1, 8)]


def store() -> MemoryNodeStore:
    nodes = MemoryNodeStore()
    nodes.put_many(MerkleAppender().append([leaf_hash(h) for h in ENTRY_HASHES]))
    return nodes


def checkpoint(size: int, when: datetime) -> tuple[Checkpoint, str]:
    cp = Checkpoint(ORIGIN, size, root_at(size, store()), when)
    return cp, sign_checkpoint(cp, LOG_KEY, ORIGIN)


def one_leaf() -> str:
    e = ENTRY_HASHES[0]
    return f"entry_hash(1) = {e.hex()}\nroot          = {leaf_hash(e).hex()}\n"


def stored_nodes() -> str:
    nodes = store().nodes
    six = {(lvl, idx): h for (lvl, idx), h in nodes.items() if (idx + 1) << lvl <= 6}
    lines = [f"({lvl}, {idx})  {h.hex()}" for (lvl, idx), h in sorted(six.items())]
    return "\n".join(lines) + f"\nroot(6) = node((2, 0), (1, 2)) = {root_at(6, store()).hex()}\n"


def checkpoint_old() -> str:
    return checkpoint(3, OLD_TIME)[1]


def log_keys() -> str:
    public = LOG_KEY.public_key()
    return f"key ID {key_id(ORIGIN, public).hex()}\nvkey   {vkey(ORIGIN, public)}\n"


def witness_keys() -> str:
    key = cosigner_vkey(WITNESS, WITNESS_KEY)
    return f"key ID {key.key_id.hex()}\nvkey   {key.text()}\n"


def cosigned() -> str:
    cp, note = checkpoint(7, NEW_TIME)
    return note + cosign(cp.body(), WITNESS_KEY, WITNESS, int(NEW_TIME.timestamp()))


def consistency_json() -> str:
    old, old_note = checkpoint(3, OLD_TIME)
    new, new_note = checkpoint(7, NEW_TIME)
    proof = consistency_from_store(store(), 7, old, old_note, new, new_note)
    return json.dumps(proof.to_json(), indent=2) + "\n"


def add_checkpoint_request() -> str:
    old, old_note = checkpoint(3, OLD_TIME)
    new, new_note = checkpoint(7, NEW_TIME)
    proof = consistency_from_store(store(), 7, old, old_note, new, new_note)
    return request_body(3, proof.path, new_note).decode()


CLIP = {
    "segment_id": "3fa2c81d09ab",
    "original_sha256": hashlib.sha256(b"original").hexdigest(),
    "sha256": hashlib.sha256(b"redacted").hexdigest(),
    "file": "clips/3fa2c81d09ab.redacted.mp4",
    "redaction": {"caption": "R-2026-0004 Café", "fps": 10.0, "regions": [[0, 0, 320, 80]]},
}


def canonical() -> str:
    return canonical_json(CLIP["redaction"]).decode() + "\n"


def evidence_digest() -> str:
    digest = content_digest([CLIP], "R-2026-0004", "2026-11-05T15:00:00.000000Z")
    return (
        f"line(clip)     = {clip_line(CLIP)}"
        f"content digest = {digest}\n"
        f"aggregate id   = {export_id(digest)}\n"
    )


EXAMPLES: dict[str, Callable[[], str]] = {
    "one-leaf": one_leaf,
    "stored-nodes": stored_nodes,
    "checkpoint": checkpoint_old,
    "log-key": log_keys,
    "witness-key": witness_keys,
    "cosigned-checkpoint": cosigned,
    "consistency-proof": consistency_json,
    "add-checkpoint-request": add_checkpoint_request,
    "canonical-json": canonical,
    "evidence-digest": evidence_digest,
}
MARKER = re.compile(r"<!-- example: ([a-z-]+) -->\n```[a-z]*\n(.*?)```", re.S)


def documented() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("FORMAT.md", "WITNESS.md"):
        for match in MARKER.finditer((DOCS / name).read_text()):
            found[match.group(1)] = match.group(2)
    return found


def test_every_example_is_in_the_documents() -> None:
    assert sorted(documented()) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_documented_example_is_what_the_code_computes(name: str) -> None:
    assert documented()[name] == EXAMPLES[name]()


def test_the_cosignature_example_verifies_with_the_documented_witness_key() -> None:
    from ledger.witness.cosignature import ED25519_COSIGNATURE, cosignatures, parse_vkey

    key_line = witness_keys().splitlines()[1].split()[1]
    key = parse_vkey(key_line, sig_type=ED25519_COSIGNATURE)
    assert cosignatures(cosigned(), [key]) == {WITNESS: int(NEW_TIME.timestamp())}
    assert base64.b64decode(cosigned().splitlines()[-1].split()[2])[:4] == key.key_id


if __name__ == "__main__":  # pragma: no cover - prints the examples for the documents
    for name, make in EXAMPLES.items():
        print(f"<!-- example: {name} -->\n```\n{make()}```\n")
