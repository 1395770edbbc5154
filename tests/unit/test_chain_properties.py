"""Properties of the chain's bytes and of the verification walk, for arbitrary events.

The rows are the tuples the store hands to ``walk`` (docs/FORMAT.md column order) and
their list order is the notification order. ``later`` stands in for the store's
"is this position held by a row further on?" query.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.chain import (
    DOMAIN,
    GENESIS,
    chain_columns,
    entry_bytes,
    entry_hash,
    state_digest,
    walk,
)
from tests.soak import size

U64 = (1 << 64) - 1
PROPERTY = settings(max_examples=size(100, 200), deadline=None)  # CUSTODES_SOAK=1: 200

Row = tuple  # (id, originator id, version, topic, state, position, digest, prev, entry hash, act)
Event = tuple[bytes, int, str, bytes]

topics = st.one_of(
    st.sampled_from(["ledger.staff:StaffMember.StaffMemberAdded", "t", ""]),
    st.text(max_size=40),  # any Unicode scalar: the topic is hashed as UTF-8
)
events = st.tuples(
    st.binary(min_size=16, max_size=16),
    st.integers(0, U64),
    topics,
    st.binary(max_size=64),
)


@st.composite
def chains(draw: st.DrawFn, min_size: int = 0) -> list[Row]:
    """Rows as the recorder writes them: increasing ids, possibly with gaps."""
    body = draw(st.lists(events, min_size=min_size, max_size=25))
    first = draw(st.integers(0, 1000))
    gaps = draw(st.lists(st.integers(1, 5), min_size=len(body), max_size=len(body)))
    ids = [first + sum(gaps[: i + 1]) for i in range(len(body))]
    base = [(nid, *event) for nid, event in zip(ids, body, strict=True)]
    return [(*b, *link) for b, link in zip(base, chain_columns(base, 0, GENESIS), strict=True)]


def later(rows: list[Row]) -> Callable[[int, int], bool]:
    def exists(position: int, after_id: int) -> bool:
        return any(r[5] == position and r[0] > after_id for r in rows)

    return exists


def verify(rows: list[Row], witnessed: int = 0):  # noqa: ANN201
    return walk(rows, position_exists_later=later(rows), witnessed_size=witnessed)


def flip(value: bytes, index: int, mask: int) -> bytes:
    index %= len(value)
    return value[:index] + bytes([value[index] ^ mask]) + value[index + 1 :]


def flip_u64(value: int, index: int, mask: int) -> int:
    return int.from_bytes(flip(value.to_bytes(8, "big"), index, mask), "big")


def replaced(rows: list[Row], at: int, column: int, value: object) -> list[Row]:
    row = list(rows[at])
    row[column] = value
    return [*rows[:at], tuple(row), *rows[at + 1 :]]


@PROPERTY
@given(chains())
def test_an_untouched_chain_verifies_with_its_count_and_head(rows: list[Row]) -> None:
    seen: list[tuple[int, bytes]] = []
    result = walk(
        rows, position_exists_later=later(rows), on_entry=lambda p, h: seen.append((p, h))
    )
    assert (result.ok, result.count) == (True, len(rows))
    assert result.head_hash == (rows[-1][8] if rows else GENESIS)
    assert seen == [(r[5], r[8]) for r in rows]
    assert [r[5] for r in rows] == list(range(1, len(rows) + 1))
    # Each link is the entry before's hash, and each digest is the state's SHA-256.
    assert [r[7] for r in rows] == [GENESIS, *(r[8] for r in rows[:-1])][: len(rows)]
    assert all(r[6] == hashlib.sha256(r[4]).digest() for r in rows)


@PROPERTY
@given(chains(), st.data())
def test_chaining_in_batches_gives_the_same_columns_as_chaining_at_once(
    rows: list[Row], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(rows)))
    head = (cut, rows[cut - 1][8]) if cut else (0, GENESIS)
    rest = list(chain_columns([r[:5] for r in rows[cut:]], *head))
    assert rest == [r[5:] for r in rows[cut:]]


# The fields of a row, by column; every one of them is covered by the entry hash or by
# a check of its own (state by its digest, the link by the entry before).
BYTE_FIELDS = {1: "originator_id", 4: "state", 6: "state_digest", 7: "prev_hash", 8: "entry_hash"}
INT_FIELDS = {0: "notification id", 2: "originator_version"}


@PROPERTY
@given(chains(min_size=1), st.data())
def test_a_changed_byte_in_any_field_of_any_row_is_an_edit_at_that_row(
    rows: list[Row], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from([*BYTE_FIELDS, *INT_FIELDS, 3]))
    index = data.draw(st.integers(0, 63))
    mask = data.draw(st.integers(1, 255))
    old = rows[at][column]
    if column in BYTE_FIELDS:
        assume(old)  # an empty state has no byte to change
        new: object = flip(old, index, mask)
    elif column in INT_FIELDS:
        new = flip_u64(old, index, mask)
        # The store's columns are signed: a negative value can be written as well.
        new = data.draw(st.sampled_from([new, -1 - new]))
    else:
        raw = old.encode("utf-8")
        assume(raw)
        try:
            new = flip(raw, index, mask).decode("utf-8")
        except UnicodeDecodeError:
            assume(False)  # the column holds text: only valid UTF-8 can be stored
    result = verify(replaced(rows, at, column, new), witnessed=len(rows))
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (at + 1, "edited")
    assert (result.count, result.head_hash) == (at, rows[at - 1][8] if at else GENESIS)


@PROPERTY
@given(chains(min_size=1), st.data())
def test_a_changed_position_is_a_gap_if_it_claims_a_later_one_else_a_reordering(
    rows: list[Row], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    flipped = flip_u64(rows[at][5], data.draw(st.integers(0, 7)), data.draw(st.integers(1, 255)))
    # The column is a signed integer in the store: zero and below can be written too.
    new = data.draw(st.sampled_from([flipped, 0, -flipped]))
    # UNIQUE (position) in the store: a taken position cannot be written.
    assume(new not in {r[5] for r in rows})
    result = verify(replaced(rows, at, 5, new), witnessed=len(rows))
    assert result.damage is not None
    # Every position from 1 to N is taken, so the new one is beyond N or below 1. Beyond:
    # the row claims a later position and none holds its own any more, which by design
    # reads as a deletion (FORMAT.md step 2). Zero: a position already passed. Negative:
    # no position at all, a value of the wrong kind (FORMAT.md "Types", checked first).
    expected = "deleted" if new > at + 1 else "edited" if new < 0 else "reordered"
    assert (result.damage.position, result.damage.kind) == (at + 1, expected)


@PROPERTY
@given(chains(min_size=1), st.data())
def test_a_stripped_chain_entry_reads_as_an_insertion_at_that_row(
    rows: list[Row], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from([5, 7, 8]))  # position, prev hash, entry hash
    result = verify(replaced(rows, at, column, None), witnessed=len(rows))
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (at + 1, "inserted")


@PROPERTY
@given(chains(min_size=1), st.data())
def test_deleted_rows_are_reported_where_the_first_one_was(
    rows: list[Row], data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(rows) - 1))
    stop = data.draw(st.integers(start + 1, len(rows)))
    result = verify([*rows[:start], *rows[stop:]], witnessed=len(rows))
    assert result.damage is not None
    # Without a row after the gap it is a cut-off tail, seen through the witness.
    kind = "deleted" if stop < len(rows) else "truncated"
    assert (result.damage.position, result.damage.kind, result.count) == (start + 1, kind, start)


@PROPERTY
@given(chains(min_size=2), st.data())
def test_two_swapped_rows_are_a_reordering_at_the_first(
    rows: list[Row], data: st.DataObject
) -> None:
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True))
    )
    # Notification order is by id: the rows swap ids, so they swap places in the read.
    swapped = list(rows)
    swapped[i] = (rows[i][0], *rows[j][1:])
    swapped[j] = (rows[j][0], *rows[i][1:])
    result = verify(swapped, witnessed=len(rows))
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (i + 1, "reordered")


@PROPERTY
@given(chains(), st.data())
def test_a_row_inserted_without_a_chain_entry_is_found_where_it_was_put(
    rows: list[Row], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows)))
    nid = data.draw(st.integers(0, U64))
    stranger = (nid, *data.draw(events), None, None, None, None, None)
    result = verify([*rows[:at], stranger, *rows[at:]], witnessed=len(rows))
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (at + 1, "inserted")


@PROPERTY
@given(chains(), st.data())
def test_a_cut_tail_is_a_truncation_only_below_the_witnessed_length(
    rows: list[Row], data: st.DataObject
) -> None:
    keep = data.draw(st.integers(0, len(rows)))
    witnessed = data.draw(st.integers(0, len(rows)))
    result = verify(rows[:keep], witnessed=witnessed)
    if keep < witnessed:
        assert result.damage is not None
        assert (result.damage.position, result.damage.kind) == (keep + 1, "truncated")
    else:
        # By design: a chain that still reaches the witness looks complete; only a signed
        # checkpoint of a later size can show the cut (docs/FORMAT.md).
        assert (result.ok, result.count) == (True, keep)


def parse_entry(raw: bytes) -> tuple[int, bytes, int, bytes, int, str, bytes]:
    """docs/FORMAT.md's entry bytes read back, field by field."""
    head = struct.Struct(">18sQ32sQ16sQI")
    domain, position, prev, nid, oid, version, length = head.unpack_from(raw)
    assert domain == DOMAIN
    topic = raw[head.size : head.size + length].decode("utf-8")
    digest = raw[head.size + length : head.size + length + 32]
    (act_length,) = struct.unpack_from(">I", raw, head.size + length + 32)
    assert len(raw) == head.size + length + 32 + 4 + act_length
    assert act_length == 0  # an entry that closes no act
    return position, prev, nid, oid, version, topic, digest


fields = st.tuples(
    st.integers(0, U64),
    st.binary(min_size=32, max_size=32),
    st.integers(0, U64),
    st.binary(min_size=16, max_size=16),
    st.integers(0, U64),
    topics,
    st.binary(min_size=32, max_size=32),
)


@PROPERTY
@given(fields)
def test_entry_bytes_read_back_to_exactly_the_fields_they_were_made_of(
    entry: tuple[int, bytes, int, bytes, int, str, bytes],
) -> None:
    # A left inverse: two different sets of fields can never share entry bytes.
    assert parse_entry(entry_bytes(*entry)) == entry
    assert entry_hash(*entry) == hashlib.sha256(entry_bytes(*entry)).digest()


@PROPERTY
@given(fields, fields)
def test_different_fields_give_different_entry_hashes(
    a: tuple[int, bytes, int, bytes, int, str, bytes],
    b: tuple[int, bytes, int, bytes, int, str, bytes],
) -> None:
    assume(a != b)
    assert entry_hash(*a) != entry_hash(*b)


@PROPERTY
@given(st.text(max_size=20), st.text(min_size=1, max_size=20), st.binary(max_size=40), fields)
def test_moving_the_boundary_between_topic_and_state_changes_the_entry_hash(
    topic: str, moved: str, state: bytes, entry: tuple[int, bytes, int, bytes, int, str, bytes]
) -> None:
    position, prev, nid, oid, version, _, _ = entry
    tail = moved.encode("utf-8")
    one = entry_hash(position, prev, nid, oid, version, topic + moved, state_digest(state))
    two = entry_hash(position, prev, nid, oid, version, topic, state_digest(tail + state))
    assert one != two
