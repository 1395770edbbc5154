"""The chain's bytes and the verification walk, without a database."""

from __future__ import annotations

import hashlib
from uuid import UUID

import pytest

from ledger.chain import GENESIS, chain_columns, entry_bytes, entry_hash, state_digest, walk

ORIGIN = UUID(int=1).bytes


def test_the_worked_example_in_format_md() -> None:
    digest = state_digest(b"x")
    assert digest.hex() == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    raw = entry_bytes(1, GENESIS, 1, ORIGIN, 1, "t", digest)
    assert raw.hex() == (
        "637573746f6465732f636861696e2f763100"
        "0000000000000001" + "00" * 32 + "0000000000000001"
        "00000000000000000000000000000001"
        "0000000000000001"
        "00000001"
        "74" + digest.hex()
    )
    assert entry_hash(1, GENESIS, 1, ORIGIN, 1, "t", digest) == hashlib.sha256(raw).digest()
    assert entry_hash(1, GENESIS, 1, ORIGIN, 1, "t", digest).hex() == (
        "a9a3caf7fad50b775c771f2f9c7afc205c20739b79198d6a5e1b584e3179aeb1"
    )


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
    ((position, _digest, prev, _h),) = chain_columns(more, 2, rows[-1][8])
    assert (position, prev) == (3, rows[-1][8])
