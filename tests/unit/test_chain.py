"""The chain's bytes and the verification walk, without a database."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from ledger.acts import (
    PAYLOAD_TYPE,
    Envelope,
    Statement,
    cores_digest,
    key_id,
    pae,
    raw_public_key,
    seal,
)
from ledger.chain import (
    GENESIS,
    chain_columns,
    chain_rows,
    core_hash,
    entry_bytes,
    entry_hash,
    entry_prefix,
    state_digest,
    walk,
)
from tests.conftest import require_tool

ORIGIN = UUID(int=1).bytes


FORMAT_MD = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def _documented(label: str) -> str:
    """The value FORMAT.md's worked example gives for ``label`` (hex, or the statement)."""
    text = FORMAT_MD.read_text()
    example = text[text.index("## Worked example") :]
    match = re.search(rf"^{re.escape(label)}\s*=\s*(.+)$", example, re.M)
    assert match, f"FORMAT.md's worked example has no {label!r}"
    return match.group(1).strip()


def _worked_example() -> tuple[bytes, bytes, Statement, bytes, Ed25519PrivateKey]:
    digest = state_digest(b"x")
    prefix = entry_prefix(1, GENESIS, 1, ORIGIN, 1, "t", digest)
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    statement = Statement(
        first=1,
        count=1,
        entries=cores_digest([core_hash(prefix)]),
        signer=UUID(int=2),
        os_user="dana",
        time=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
    )
    return digest, prefix, statement, seal(statement, key), key


def test_the_worked_example_in_format_md_is_what_the_code_computes() -> None:
    digest, prefix, statement, record, key = _worked_example()
    assert digest.hex() == _documented("state_digest")
    text = FORMAT_MD.read_text()
    block = text[text.index("entry_bytes with an empty act =") : text.index("core_hash    =")]
    documented_bytes = "".join(block.split("=", 1)[1].split())
    assert entry_bytes(1, GENESIS, 1, ORIGIN, 1, "t", digest).hex() == documented_bytes
    assert core_hash(prefix).hex() == _documented("core_hash")
    assert statement.entries == _documented("entries")
    assert raw_public_key(key.public_key()).hex() == _documented("public key")
    assert key_id(key.public_key()) == _documented("key id")
    assert statement.to_bytes().decode() == _documented("statement")
    envelope = Envelope.from_bytes(record)
    assert envelope.signature.hex() == _documented("signature")
    assert pae(PAYLOAD_TYPE, statement.to_bytes()).startswith(
        _documented("PAE").split("<statement>")[0].encode()
    )
    h = entry_hash(1, GENESIS, 1, ORIGIN, 1, "t", digest, record)
    assert h == hashlib.sha256(prefix + struct.pack(">I", len(record)) + record).digest()
    assert h.hex() == _documented("entry_hash")


def test_the_openssl_recipe_in_format_md_checks_an_act_signature(tmp_path: Path) -> None:
    require_tool("openssl", "FORMAT.md tells auditors to check act signatures with it")
    _digest, _prefix, _statement, record, key = _worked_example()
    text = FORMAT_MD.read_text()
    recipe = text[text.index("### Checking an act's signature with OpenSSL alone") :]
    script = recipe[recipe.index("```sh") + 5 : recipe.index("```", recipe.index("```sh") + 5)]
    (tmp_path / "act.json").write_bytes(record)
    pub = raw_public_key(key.public_key()).hex()

    def run(act: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "act.json").write_bytes(act)
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env={**os.environ, "PUB": pub},
            capture_output=True,
            text=True,
        )

    ok = run(record)
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout
    # The same statement signed with another key does not verify with the member's.
    bad = run(seal(_statement, Ed25519PrivateKey.generate()))
    assert bad.returncode != 0 and "Signature Verified Successfully" not in bad.stdout


def _rows(n: int) -> list[tuple]:
    base = [(i, ORIGIN, i, "topic", b"state %d" % i) for i in range(1, n + 1)]
    return [(*b[:5], *link) for b, link in zip(base, chain_columns(base, 0, GENESIS), strict=True)]


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    rows = _rows(5)
    result = walk(rows, position_exists_later=lambda p, i: False)
    assert result.ok and result.count == 5
    assert result.head_hash == rows[-1][8]


def test_an_empty_chain_verifies_with_the_genesis_head() -> None:
    result = walk([], position_exists_later=lambda p, i: False)
    assert (result.ok, result.count, result.head_hash) == (True, 0, GENESIS)


@pytest.mark.parametrize("topic_change, position", [("renamed", 1), ("renamed", 3), ("renamed", 5)])
def test_a_changed_topic_is_an_edit_at_that_position(topic_change: str, position: int) -> None:
    rows = _rows(5)
    row = list(rows[position - 1])
    row[3] = topic_change
    rows[position - 1] = tuple(row)
    result = walk(rows, position_exists_later=lambda p, i: False)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (position, "edited")
    assert result.damage.detail == "entry hash does not match the entry's fields"


def test_ending_short_of_the_witnessed_length_is_a_truncation() -> None:
    result = walk(_rows(3), position_exists_later=lambda p, i: False, witnessed_size=5)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (4, "truncated")


def test_continuing_a_chain_links_to_the_head_given() -> None:
    rows = _rows(2)
    more = [(3, ORIGIN, 3, "topic", b"state 3")]
    ((position, _digest, prev, _h, act),) = chain_columns(more, 2, rows[-1][8])
    assert act is None  # no seal given: an entry of no act
    assert (position, prev) == (3, rows[-1][8])


@pytest.mark.parametrize("sealed", [False, True])
@pytest.mark.parametrize("head", [0, 41])
def test_the_stores_fast_rows_are_the_reference_chain_columns(sealed: bool, head: int) -> None:
    """``chain_rows`` (the recorder's one-pass path) writes exactly the bytes of
    ``chain_columns`` (the reference written from docs/FORMAT.md), act included."""
    rng = __import__("random").Random(head * 2 + sealed)
    topics = ["ledger.custody:CustodyRecord.CustodyRecorded", "t", "é/ünïcode:Topic", ""]
    events = [
        StoredEvent(UUID(bytes=os.urandom(16)), rng.randint(1, 2**40), rng.choice(topics),
                    os.urandom(rng.randint(0, 300)))
        for _ in range(rng.randint(1, 40))
    ]  # fmt: skip
    ids = sorted(rng.sample(range(1, 10**6), len(events)))
    head_hash = hashlib.sha256(b"head").digest() if head else GENESIS
    seen: list[tuple[int, int, str]] = []

    def seal(first: int, count: int, entries: str) -> bytes:
        seen.append((first, count, entries))
        return b"signed act record " + entries.encode()

    base = [(i, e.originator_id.bytes, e.originator_version, e.topic, e.state)
            for i, e in zip(ids, events, strict=True)]  # fmt: skip
    ref_seen: list[tuple[int, int, str]] = []

    def ref_seal(first: int, count: int, entries: str) -> bytes:
        ref_seen.append((first, count, entries))
        return b"signed act record " + entries.encode()

    reference = [
        (*b, *link)
        for b, link in zip(
            base, chain_columns(base, head, head_hash, ref_seal if sealed else None), strict=True
        )
    ]
    for sqlite in (True, False):
        rows = chain_rows(ids, events, head, head_hash, seal if sealed else None,
                          sqlite=sqlite)  # fmt: skip
        if sqlite:  # a row without an act leaves the act column out
            assert [len(r) for r in rows] == [10 if r[9] else 9 for r in reference]
            rows = [(*r, None) if len(r) == 9 else r for r in rows]
        assert [(r[0], r[1] if sqlite else r[1].bytes, *r[2:]) for r in rows] == reference  # type: ignore[union-attr]
        blob = bytearray if sqlite else bytes  # sqlite3 binds a bytearray without adapting it
        assert {type(v) for r in rows for v in (r[4], r[6], r[7])} == {blob}
    assert seen == ref_seen * 2
    assert [r[9] is not None for r in reference] == [
        sealed and r is reference[-1] for r in reference
    ]
